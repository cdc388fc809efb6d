import { blockHeight, MapColumn, mapScale, ShardGroup, titleTenants } from './cluster-map';

function group(bytes: number, isolated = false): ShardGroup {
  return {
    key: `k${bytes}${isolated}`,
    shardId: '1',
    shardIds: ['1'],
    tables: ['users', 'notes'],
    nodeId: 1,
    bytes,
    tenants: [],
    isolated,
  };
}

function column(groups: ShardGroup[]): MapColumn {
  return {
    node: { id: 1, host: 'w', port: 1, role: 'worker', healthy: true } as MapColumn['node'],
    groups,
    bytes: groups.reduce((sum, g) => sum + g.bytes, 0),
  };
}

describe('cluster map layout', () => {
  it('should keep every column, named blocks and gaps included, within the height', () => {
    const columns = [
      column([group(50_000_000), group(20_000), group(10_000, true), group(8_000, true)]),
      column([group(900_000), group(1_000, true)]),
    ];
    const scale = mapScale(columns, 420);
    for (const { groups } of columns) {
      const used = groups.reduce((sum, g) => sum + blockHeight(g, scale) + 1, 0);
      expect(used).toBeLessThanOrEqual(420 + 3 * groups.length);
    }
  });

  it('should leave an isolated block tall enough to name, however small beside the rest', () => {
    const tiny = group(200_000, true);
    const scale = mapScale([column([group(5_000_000_000), tiny])], 420);
    expect(blockHeight(tiny, scale)).toBeGreaterThanOrEqual(16);
    expect(blockHeight(group(200_000), scale)).toBeLessThan(16);
  });

  it('should keep blocks proportional to their bytes above the minimum', () => {
    const scale = mapScale([column([group(4_000_000), group(2_000_000)])], 420);
    expect(blockHeight(group(4_000_000), scale)).toBeCloseTo(
      2 * blockHeight(group(2_000_000), scale),
    );
  });
});

describe('cluster map tooltips', () => {
  const crowded: ShardGroup = {
    ...group(1_000),
    tenants: Array.from(
      { length: 11 },
      (_, i) => ({ id: `t${i}`, name: `Org ${i}` }) as ShardGroup['tenants'][number],
    ),
  };

  it('should name the tenant being looked for first, even past the eighth', () => {
    expect(titleTenants(crowded, 't10')).toBe(
      'Tenants: Org 10, Org 0, Org 1, Org 2, Org 3, Org 4, Org 5, Org 6 and 3 more',
    );
  });

  it('should list the first eight in order without a tenant to look for', () => {
    expect(titleTenants(crowded)).toBe(
      'Tenants: Org 0, Org 1, Org 2, Org 3, Org 4, Org 5, Org 6, Org 7 and 3 more',
    );
    expect(titleTenants(group(1))).toBe('No tenants listed');
  });
});
