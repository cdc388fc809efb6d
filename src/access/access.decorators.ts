import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { FastifyRequest as Request } from 'fastify';
import { BEARER_SCHEME, OPERATOR_SCHEME } from '../http/openapi';
import { UserRole } from '../roles/roles';
import { AuthenticatedOperator, AuthenticatedUser, Principal } from './principal';

export const IS_PUBLIC = 'auth:isPublic';
export const REQUIRED_ROLES = 'auth:roles';
export const OPERATOR_ONLY = 'auth:operatorOnly';

/** Opts a route out of the global authentication guard. Everything else needs a token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/**
 * Declares who may call a route (any authenticated user when no role is named) and emits the
 * matching OpenAPI security metadata, so the docs and the guard read the same declaration.
 * Put it on the class or on each method, not both (the docs would list the scheme twice).
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

/** Routes for service operators: operator tokens only, documented under their own scheme. */
export function Operator(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(OPERATOR_ONLY, true),
    ApiBearerAuth(OPERATOR_SCHEME),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired operator token' }),
    ApiForbiddenResponse({ description: 'A tenant user token: operators only' }),
  );
}

export const CurrentUser = createParamDecorator(
  (_data: unknown, execution: ExecutionContext): AuthenticatedUser => {
    const request = execution.switchToHttp().getRequest<Request & { user?: Principal }>();
    if (request.user?.kind !== 'user') {
      // The guard lets only tenant users reach tenant routes; anything else is a wiring bug.
      throw new Error('CurrentUser used on a route without an authenticated tenant user');
    }
    return request.user;
  },
);

/** On a public route: the tenant user whose valid token came along, if any. */
export const OptionalUser = createParamDecorator(
  (_data: unknown, execution: ExecutionContext): AuthenticatedUser | undefined => {
    const request = execution.switchToHttp().getRequest<Request & { user?: Principal }>();
    return request.user?.kind === 'user' ? request.user : undefined;
  },
);

/** On a public route: the operator whose valid token came along, if any. */
export const OptionalOperator = createParamDecorator(
  (_data: unknown, execution: ExecutionContext): AuthenticatedOperator | undefined => {
    const request = execution.switchToHttp().getRequest<Request & { user?: Principal }>();
    return request.user?.kind === 'operator' ? request.user : undefined;
  },
);
