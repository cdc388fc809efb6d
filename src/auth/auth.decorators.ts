import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Request } from 'express';
import { UserRole } from '../users/user-role';
import { AuthenticatedUser } from './authenticated-user';

export const IS_PUBLIC = 'auth:isPublic';
export const REQUIRED_ROLES = 'auth:roles';
export const BEARER_SCHEME = 'bearer';

/** Opts a route out of the global authentication guard. Everything else needs a token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/**
 * Declares who may call a route (any authenticated user when no role is named) and emits the
 * matching OpenAPI security metadata, so the docs and the guard read the same declaration.
 */
export function Auth(...roles: UserRole[]): MethodDecorator & ClassDecorator {
  const decorators = [
    ApiBearerAuth(BEARER_SCHEME),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired access token' }),
  ];
  if (roles.length > 0) {
    decorators.push(
      SetMetadata(REQUIRED_ROLES, roles),
      ApiForbiddenResponse({ description: `Requires role: ${roles.join(' or ')}` }),
    );
  }
  return applyDecorators(...decorators);
}

export const CurrentUser = createParamDecorator(
  (_data: unknown, execution: ExecutionContext): AuthenticatedUser => {
    const request = execution.switchToHttp().getRequest<Request & { user?: AuthenticatedUser }>();
    if (!request.user) {
      // Only reachable if a route is both @Public() and asks for the user: a programming error.
      throw new Error('CurrentUser used on a route without an authenticated user');
    }
    return request.user;
  },
);
