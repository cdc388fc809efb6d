import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { FastifyRequest as Request } from 'fastify';
import { AppError, toError } from '../errors/app-error';
import { TenantContext } from '../tenancy/tenant-context';
import { UserRole } from '../roles/roles';
import { IS_PUBLIC, OPERATOR_ONLY, REQUIRED_ROLES } from './access.decorators';
import { Principal } from './principal';

/**
 * The one global guard: every route needs a valid bearer token unless marked @Public(). Operator
 * routes (@Operator()) take only operator tokens, every other route only tenant-user tokens, and
 * routes that name roles with @Auth(...) get them checked here too.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(
    private readonly reflector: Reflector,
    private readonly context: TenantContext,
  ) {
    super();
  }

  override async canActivate(execution: ExecutionContext): Promise<boolean> {
    const targets = [execution.getHandler(), execution.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      // A public route still learns who calls when a valid token comes along (registration
      // takes a logged-in session as proof of owning an email); a bad token is simply ignored.
      const request = execution.switchToHttp().getRequest<Request>();
      if (request.headers.authorization) {
        await Promise.resolve(super.canActivate(execution) as Promise<boolean>).catch(
          () => undefined,
        );
      }
      return true;
    }

    await super.canActivate(execution);
    const { user: principal } = execution
      .switchToHttp()
      .getRequest<Request & { user: Principal }>();

    if (this.reflector.getAllAndOverride<boolean>(OPERATOR_ONLY, targets)) {
      if (principal.kind !== 'operator') {
        throw new AppError('FORBIDDEN', 'This route is for service operators only');
      }
      return true;
    }
    if (principal.kind !== 'user') {
      throw new AppError('FORBIDDEN', 'Operator tokens cannot be used on tenant routes');
    }
    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(REQUIRED_ROLES, targets);
    if (roles && roles.length > 0 && !roles.includes(principal.role)) {
      throw new AppError('FORBIDDEN', `This action requires role: ${roles.join(' or ')}`);
    }
    // The verified token is the only source of the tenant: never a header, never the body.
    this.context.enter({ tenantId: principal.tenantId });
    return true;
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
