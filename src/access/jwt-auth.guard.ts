import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { FastifyRequest as Request } from 'fastify';
import { AppError, toError } from '../errors/app-error';
import { LiveAccess } from '../database/live-access';
import { OPERATOR_TENANT } from '../sessions/session.entity';
import { TenantContext } from '../tenancy/tenant-context';
import { UserRole } from '../roles/roles';
import { IS_PUBLIC, OPERATOR_ONLY, REQUIRED_ROLES } from './access.decorators';
import { AuthenticatedUser, Principal } from './principal';

/**
 * The one global guard: every route needs a valid bearer token unless marked @Public(). Operator
 * routes (@Operator()) take only operator tokens, every other route only tenant-user tokens, and
 * routes that name roles with @Auth(...) get them checked here too. A token proves who calls
 * and in which session; whether that session is still live and what the member may do now come
 * from the stored state (LiveAccess), so logout, removal and demotion end rights at once.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly context: TenantContext,
    private readonly live: LiveAccess,
  ) {
    super();
  }

  override async canActivate(execution: ExecutionContext): Promise<boolean> {
    const targets = [execution.getHandler(), execution.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      // A public route still learns who calls when a valid token comes along (registration
      // takes a logged-in session as proof of owning an email); a bad token is simply ignored.
      const request = execution.switchToHttp().getRequest<Request & { user?: Principal }>();
      if (request.headers.authorization) {
        await Promise.resolve(super.canActivate(execution) as Promise<boolean>).catch(
          () => undefined,
        );
        const caller = request.user;
        if (caller?.kind === 'user') {
          const current = await this.current(caller);
          if (current) request.user = current;
          else delete request.user;
        } else if (
          caller &&
          !(await this.live.operatorSession({ ...caller, tenantId: OPERATOR_TENANT }))
        ) {
          delete request.user;
        }
      }
      return true;
    }

    await super.canActivate(execution);
    const request = execution.switchToHttp().getRequest<Request & { user: Principal }>();
    const principal = request.user;

    if (this.reflector.getAllAndOverride<boolean>(OPERATOR_ONLY, targets)) {
      if (principal.kind !== 'operator') {
        throw new AppError('FORBIDDEN', 'This route is for service operators only');
      }
      if (!(await this.live.operatorSession({ ...principal, tenantId: OPERATOR_TENANT }))) {
        throw sessionEnded();
      }
      return true;
    }
    if (principal.kind !== 'user') {
      throw new AppError('FORBIDDEN', 'Operator tokens cannot be used on tenant routes');
    }
    const member = await this.current(principal);
    if (!member) throw sessionEnded();
    request.user = member;
    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(REQUIRED_ROLES, targets);
    if (roles && roles.length > 0 && !roles.includes(member.role)) {
      throw new AppError('FORBIDDEN', `This action requires role: ${roles.join(' or ')}`);
    }
    // The verified token is the only source of the tenant: never a header, never the body.
    this.context.enter({ tenantId: member.tenantId });
    return true;
  }

  /** The caller with the role they hold now, or undefined once their session or membership ended. */
  private async current(user: AuthenticatedUser): Promise<AuthenticatedUser | undefined> {
    const role = await this.live.role(user);
    if (!role) return undefined;
    return role === user.role ? user : { ...user, role };
  }

  override handleRequest<T = Principal>(error: unknown, user: T | false): T {
    // A strategy that threw is rethrown as is: a bug must surface as a 500, not hide as a 401.
    if (error) throw toError(error);
    if (!user) {
      throw new AppError('UNAUTHENTICATED', 'A valid bearer access token is required');
    }
    return user;
  }
}

function sessionEnded(): AppError {
  return new AppError(
    'UNAUTHENTICATED',
    'This session has ended (logged out, or no longer a member): log in again',
  );
}
