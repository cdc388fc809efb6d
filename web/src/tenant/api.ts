import type { components, paths } from '../api/tenant-api.gen';
import { createApi } from '../shared/api';
import { Session } from '../shared/session';

export type Note = components['schemas']['NoteView'];
export type Member = components['schemas']['UserView'];
export type Tenant = components['schemas']['TenantView'];
export type LoginAnswer = components['schemas']['LoginResponseDto'];

export const session = new Session('notes.refreshToken', '/api/v1/auth/refresh');
export const api = createApi<paths>(session);

/** Who is logged in: the user and their tenant (from login, or GET /auth/me after a reload). */
export interface Me {
  user: Member;
  tenant: Tenant;
}

/** Owners and admins may change or delete any note of their tenant, and invite. */
export function manages(me: Me): boolean {
  return me.user.role === 'owner' || me.user.role === 'admin';
}
