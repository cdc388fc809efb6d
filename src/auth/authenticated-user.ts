import { UserRole } from '../users/user-role';

/** What a verified access token says about its bearer; attached to the request by passport. */
export interface AuthenticatedUser {
  userId: string;
  tenantId: string;
  role: UserRole;
}

/** Claims inside the JWT. `sub` is the user id, `tid` the tenant id. */
export interface AccessTokenClaims {
  sub: string;
  tid: string;
  role: UserRole;
}
