import { formatBytes } from '../shared/ui';
import { blockHeight, MapColumn, mapScale, ShardGroup, titleTenants } from './cluster-map';

const COLUMN_WIDTH = 170;
const GAP = 24;
const TOP = 56;
const HEIGHT = 420;

function groupTitle(group: ShardGroup, foundTenantId?: string): string {
  return [
    `Shard group ${group.shardId}${group.isolated ? ' (isolated)' : ''}`,
    `${group.tables.join(', ')}: ${formatBytes(group.bytes)}`,
    titleTenants(group, foundTenantId),
  ].join('\n');
}

/**
 * The cluster as a picture: one column per worker, a block per shard group with its height
 * proportional to its bytes (every column on the same scale), isolated groups hatched and named,
 * and the group of the tenant being looked for outlined.
 */
export function ClusterMap(props: {
  columns: MapColumn[];
  /** The tenant being looked for: its block is outlined and its tooltip names it first. */
  found?: { id: string; shardId: string | null };
}) {
  const { columns, found } = props;
  const highlight = found?.shardId ?? undefined;
  const scale = mapScale(columns, HEIGHT);
  const width = Math.max(1, columns.length) * (COLUMN_WIDTH + GAP);
  const summary = columns
    .map(
      (column) =>
        `${column.node.role} ${column.node.host}:${column.node.port}: ${column.groups.length} shard groups, ${formatBytes(column.bytes)}`,
    )
    .join('; ');
  return (
    <figure class="map card">
      <svg
        role="img"
        aria-labelledby="map-title map-desc"
        width={width}
        height={TOP + HEIGHT + 20}
        viewBox={`0 0 ${width} ${TOP + HEIGHT + 20}`}
      >
        <title id="map-title">Cluster map</title>
        <desc id="map-desc">{summary}</desc>
        <defs>
          <pattern
            id="hatch"
            width="6"
            height="6"
            patternUnits="userSpaceOnUse"
            patternTransform="rotate(45)"
          >
            <rect width="6" height="6" fill="#c2410c" />
            <line x1="0" y1="0" x2="0" y2="6" stroke="#fed7aa" stroke-width="3" />
          </pattern>
        </defs>
        {columns.map((column, index) => {
          const x = index * (COLUMN_WIDTH + GAP) + GAP / 2;
          let y = TOP;
          return (
            <g key={column.node.id} data-node={column.node.id}>
              <text x={x} y={18} font-weight="700" fill="#1b1f24">
                {column.node.role === 'worker' ? 'Worker' : 'Coordinator'} {column.node.id}
              </text>
              <text x={x} y={34} fill="#4a5361" font-size="12">
                {column.node.host}:{column.node.port}
              </text>
              <text x={x} y={48} fill={column.node.healthy ? '#1e6b34' : '#b3261e'} font-size="12">
                {column.node.healthy ? 'healthy' : 'unreachable'} · {formatBytes(column.bytes)}
              </text>
              {column.groups.map((group) => {
                const height = blockHeight(group, scale);
                const top = y;
                y += height + 1;
                const tenantGroup = group.tables.includes('users');
                const matched = highlight !== undefined && group.shardId === highlight;
                return (
                  <g
                    key={group.key}
                    data-shard={group.shardId}
                    data-isolated={group.isolated ? 'true' : undefined}
                    data-match={matched ? 'true' : undefined}
                  >
                    <title>{groupTitle(group, matched ? found?.id : undefined)}</title>
                    <rect
                      x={x}
                      y={top}
                      width={COLUMN_WIDTH}
                      height={height}
                      fill={group.isolated ? 'url(#hatch)' : tenantGroup ? '#5b8def' : '#aab4c3'}
                      stroke={matched ? '#111827' : '#ffffff'}
                      stroke-width={matched ? 3 : 0.5}
                    />
                    {group.isolated && (
                      <text
                        x={x + 4}
                        y={top + Math.min(height - 3, 13)}
                        font-size="11"
                        fill="#ffffff"
                        font-weight="700"
                      >
                        isolated:{' '}
                        {group.tenants.map((tenant) => tenant.name).join(', ') || group.shardId}
                      </text>
                    )}
                    {matched && (
                      <text
                        x={x + COLUMN_WIDTH - 4}
                        y={top + Math.min(Math.max(height - 3, 11), 13)}
                        font-size="12"
                        text-anchor="end"
                        fill="#111827"
                        font-weight="700"
                      >
                        ◀ here
                      </text>
                    )}
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
      <figcaption class="hint">
        Columns are workers; each block is a shard group (the colocated shards of users, notes and
        invitations, or of the login directory in grey), its height proportional to its bytes.
        Hatched blocks hold one isolated tenant. Hover a block for its tenants.
      </figcaption>
    </figure>
  );
}
