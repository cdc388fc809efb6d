import { NodeRef } from './dto/catalog.dto';

/** A row as node-postgres returns it: bigint and numeric as strings, int as numbers. */
export type Row = Record<string, unknown>;

export const str = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean'
      ? String(value)
      : (JSON.stringify(value) ?? '');

export const num = (value: unknown): number => Number(value);

export const optStr = (value: unknown): string | null =>
  value === null || value === undefined ? null : str(value);

export const optDate = (value: unknown): Date | null => (value as Date | null | undefined) ?? null;

export const nodeRef = (row: Row): NodeRef => ({
  id: num(row.nodeid),
  host: str(row.nodename),
  port: num(row.nodeport),
});

export interface NodeRow extends NodeRef {
  groupId: number;
  active: boolean;
  shouldHaveShards: boolean;
}

export interface HealthCheck {
  toHost: string;
  toPort: number;
  ok: boolean;
}

export interface TenantRow {
  id: string;
  name: string;
  createdAt: Date;
}

export interface Placement {
  tenantId: string;
  shardId: string;
  isolated: boolean;
  node: NodeRef;
}

export interface RebalanceJob {
  jobId: string;
  state: string;
  description: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  details: Record<string, unknown> | null;
}

/** Citus background job states that are not over yet. */
export const UNFINISHED_JOB_STATES: readonly string[] = [
  'scheduled',
  'running',
  'cancelling',
  'failing',
];
