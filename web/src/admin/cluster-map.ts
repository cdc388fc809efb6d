import type { ClusterNode, Shard, Table, TenantPlacement } from './api';

/** Shards of colocated tables with the same hash range: they live and move together. */
export interface ShardGroup {
  key: string;
  /** The shard id tenants report (their users shard), or the group's first shard. */
  shardId: string;
  shardIds: string[];
  tables: string[];
  nodeId: number;
  bytes: number;
  tenants: TenantPlacement[];
  /** The hash range holds one value: a tenant isolated to a shard of its own. */
  isolated: boolean;
}

export interface MapColumn {
  node: ClusterNode;
  groups: ShardGroup[];
  bytes: number;
}

/**
 * Workers as columns, each with its shard groups (distributed tables only: reference tables are
 * copied everywhere), and every tenant put in the group that holds its shard.
 */
export function buildClusterMap(
  nodes: ClusterNode[],
  tables: Table[],
  shards: Shard[],
  tenants: TenantPlacement[],
): MapColumn[] {
  const colocation = new Map(tables.map((table) => [table.name, table.colocationId]));
  const groups = new Map<string, ShardGroup>();
  const groupOfShard = new Map<string, ShardGroup>();
  for (const shard of shards) {
    if (shard.minValue === null || shard.maxValue === null) continue;
    const key = `${colocation.get(shard.table) ?? shard.table}:${shard.minValue}:${shard.maxValue}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        key,
        shardId: shard.shardId,
        shardIds: [],
        tables: [],
        nodeId: shard.node.id,
        bytes: 0,
        tenants: [],
        isolated: shard.minValue === shard.maxValue,
      };
      groups.set(key, group);
    }
    group.shardIds.push(shard.shardId);
    if (!group.tables.includes(shard.table)) group.tables.push(shard.table);
    if (shard.table === 'users') group.shardId = shard.shardId;
    group.bytes += shard.sizeBytes ?? 0;
    groupOfShard.set(shard.shardId, group);
  }
  for (const tenant of tenants) {
    const group = tenant.shardId ? groupOfShard.get(tenant.shardId) : undefined;
    group?.tenants.push(tenant);
  }
  const holding = new Set([...groups.values()].map((group) => group.nodeId));
  return nodes
    .filter((node) => node.role === 'worker' || holding.has(node.id))
    .map((node) => {
      const own = [...groups.values()]
        .filter((group) => group.nodeId === node.id)
        // Tenant groups first, largest first: the busy ones are at the top of each column.
        .sort(
          (a, b) =>
            Number(b.tables.includes('users')) - Number(a.tables.includes('users')) ||
            b.bytes - a.bytes,
        );
      return { node, groups: own, bytes: own.reduce((sum, group) => sum + group.bytes, 0) };
    });
}

/** Tenants whose name contains `query`, ignoring case and accents. */
export function findTenants(tenants: TenantPlacement[], query: string): TenantPlacement[] {
  const fold = (text: string) => text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const wanted = fold(query.trim());
  if (!wanted) return [];
  return tenants.filter((tenant) => fold(tenant.name).includes(wanted));
}
