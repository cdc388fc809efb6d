import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Request } from 'express';
import { AppError, toError } from '../errors/app-error';
import { UserRole } from '../users/user-role';
import { IS_PUBLIC, REQUIRED_ROLES } from './auth.decorators';
import { AuthenticatedUser } from './authenticated-user';

/**
 * The one global guard: every route needs a valid bearer token unless marked @Public(), and routes
 * that name roles with @Auth(...) get them checked here too.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(execution: ExecutionContext): Promise<boolean> {
    const targets = [execution.getHandler(), execution.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    await super.canActivate(execution);

    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(REQUIRED_ROLES, targets);
    if (roles && roles.length > 0) {
      const request = execution.switchToHttp().getRequest<Request & { user: AuthenticatedUser }>();
      if (!roles.includes(request.user.role)) {
        throw new AppError('FORBIDDEN', `This action requires role: ${roles.join(' or ')}`);
      }
    }
    return true;
  }

  override handleRequest<T = AuthenticatedUser>(error: unknown, user: T | false): T {
    // A strategy that threw is rethrown as is: a bug must surface as a 500, not hide as a 401.
    if (error) throw toError(error);
    if (!user) {
      throw new AppError('UNAUTHENTICATED', 'A valid bearer access token is required');
    }
    return user;
  }
}
