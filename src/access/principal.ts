import { UserRole } from '../roles/roles';

/** A tenant user, as a verified access token describes them; attached to the request by passport. */
export interface AuthenticatedUser {
  kind: 'user';
  userId: string;
  tenantId: string;
  role: UserRole;
  /** The login session the token belongs to (logout ends it). */
  sessionId: string;
}

/** A service operator: belongs to no tenant and may only use the admin API. */
export interface AuthenticatedOperator {
  kind: 'operator';
  operatorId: string;
  sessionId: string;
}

export type Principal = AuthenticatedUser | AuthenticatedOperator;
