import { UserRole } from '../users/user-role';

/** A tenant user, as a verified access token describes them; attached to the request by passport. */
export interface AuthenticatedUser {
  kind: 'user';
  userId: string;
  tenantId: string;
  role: UserRole;
}

/** A service operator: belongs to no tenant and may only use the admin API. */
export interface AuthenticatedOperator {
  kind: 'operator';
  operatorId: string;
}

export type Principal = AuthenticatedUser | AuthenticatedOperator;

/** Tokens say which API they are for; a token for one is refused (403) by the other. */
export type TokenScope = 'tenant' | 'operator';

/** Claims inside a tenant user's JWT. `sub` is the user id, `tid` the tenant id. */
export interface UserTokenClaims {
  scope: 'tenant';
  sub: string;
  tid: string;
  role: UserRole;
}

export interface OperatorTokenClaims {
  scope: 'operator';
  sub: string;
}
