import type { components, paths } from '../api/operator-api.gen';
import { createApi } from '../shared/api';
import { Session } from '../shared/session';

type Schemas = components['schemas'];
export type ClusterNode = Schemas['NodeView'];
export type Shard = Schemas['ShardView'];
export type Table = Schemas['TableView'];
export type TenantPlacement = Schemas['TenantPlacementView'];
export type Activity = Schemas['ActivityView'];
export type Rebalance = Schemas['RebalanceAnswer'];
export type Registration = Schemas['RegistrationView'];
export type LoadTracking = Schemas['LoadTracking'];
export type LimitedTenant = Schemas['LimitedTenantView'];

export const session = new Session('notes.operatorRefreshToken', '/api/v1/admin/auth/refresh');
export const api = createApi<paths>(session);

/** Every page of a keyset-paginated list, up to `maxPages`. */
export async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
  maxPages = 50,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const answer = await fetchPage(cursor);
    items.push(...answer.items);
    if (!answer.nextCursor) break;
    cursor = answer.nextCursor;
  }
  return items;
}

/** Citus' job states that mean a rebalance is still going. */
export const UNFINISHED = ['scheduled', 'running', 'cancelling', 'failing'];
