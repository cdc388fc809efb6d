// The generated schema types, not ./api: this module is pure, and its spec runs under Node.
import type { components } from '../api/operator-api.gen';

type ClusterNode = components['schemas']['NodeView'];
type Shard = components['schemas']['ShardView'];
type Table = components['schemas']['TableView'];
type TenantPlacement = components['schemas']['TenantPlacementView'];

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

/** A block's least height: a sliver for most, room for its name for an isolated one. */
const MIN_BLOCK = 3;
const MIN_NAMED_BLOCK = 16;

/**
 * Pixels per byte, the same for every column, chosen so that the fullest column fits in `height`
 * with a pixel between blocks and its isolated blocks at the height their names need.
 */
export function mapScale(columns: MapColumn[], height: number): number {
  const largest = Math.max(1, ...columns.map((column) => column.bytes));
  const fixed = Math.max(
    0,
    ...columns.map(
      (column) =>
        column.groups.length +
        column.groups.filter((group) => group.isolated).length * MIN_NAMED_BLOCK,
    ),
  );
  return Math.max(0, height - fixed) / largest;
}

/**
 * A block's height in pixels: proportional to its bytes, never less than a sliver, and for an
 * isolated tenant never too low to name it, however small it is beside the rest of the cluster.
 */
export function blockHeight(group: ShardGroup, scale: number): number {
  return Math.max(group.isolated ? MIN_NAMED_BLOCK : MIN_BLOCK, group.bytes * scale);
}

const TITLE_TENANTS = 8;

/**
 * The tenants a block's tooltip names: at most eight, and the tenant being looked for first, so
 * the block outlined for it always names it, however many tenants share its shard.
 */
export function titleTenants(group: ShardGroup, foundTenantId?: string): string {
  const names = [...group.tenants]
    .sort((a, b) => Number(b.id === foundTenantId) - Number(a.id === foundTenantId))
    .map((tenant) => tenant.name);
  if (names.length === 0) return 'No tenants listed';
  const more = names.length - TITLE_TENANTS;
  return `Tenants: ${names.slice(0, TITLE_TENANTS).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** Tenants whose name contains `query`, ignoring case and accents. */
export function findTenants(tenants: TenantPlacement[], query: string): TenantPlacement[] {
  const fold = (text: string) => text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const wanted = fold(query.trim());
  if (!wanted) return [];
  return tenants.filter((tenant) => fold(tenant.name).includes(wanted));
}
