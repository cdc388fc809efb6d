import { AppConfig, loadConfig, ShardTransferMode } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { ClusterRepository } from './cluster.repository';
import { Placement, TenantRow } from './cluster-rows';
import { NodeRef } from './dto/catalog.dto';
import { TenantPlacementService } from './tenant-placement.service';
import { TransferModeService } from './transfer-mode.service';

function configWith(mode: ShardTransferMode): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://u@localhost/db',
    BCRYPT_COST: '4',
    CITUS_SHARD_TRANSFER_MODE: mode,
  });
}

const W1: NodeRef = { id: 2, host: 'w1', port: 5432 };
const W2: NodeRef = { id: 3, host: 'w2', port: 5432 };

const tenantRow = (id: string): TenantRow => ({ id, name: `T${id}`, createdAt: new Date(0) });

const placement = (tenantId: string, isolated = false, node = W1): Placement => ({
  tenantId,
  shardId: `10200${tenantId}`,
  isolated,
  node,
});

const OUTPUT_PLUGIN_ERROR = new Error(
  'ERROR: "citus" may not be used as an output plugin (output_plugin_libraries)',
);

/** A Citus cluster holding tenant 7 on W1, shared with other tenants, unless told otherwise. */
function fakeCluster(
  options: { citus?: boolean; tenants?: TenantRow[]; placements?: Placement[] } = {},
): jest.Mocked<ClusterRepository> {
  const citus = options.citus ?? true;
  const tenants = options.tenants ?? [tenantRow('7')];
  const placements = options.placements ?? [placement('7')];
  const cluster = {
    isCitus: jest.fn(() => Promise.resolve(citus)),
    tenants: jest.fn((filter: { id: string } | { limit: number }) =>
      Promise.resolve('id' in filter ? tenants.filter((t) => t.id === filter.id) : tenants),
    ),
    counts: jest.fn(() => Promise.resolve([])),
    placementsOf: jest.fn(() => Promise.resolve(placements)),
    tenantLoad: jest.fn(() => Promise.resolve({ setting: 'all', rows: [] })),
    shardHolder: jest.fn((id: number) => Promise.resolve([W1, W2].find((n) => n.id === id))),
    isolate: jest.fn(() => Promise.resolve('102999')),
    moveShard: jest.fn(() => Promise.resolve()),
    nodeOfShard: jest.fn(() => Promise.resolve(W1)),
    asynchronousCommits: jest.fn(() => Promise.resolve([])),
  };
  return cluster as unknown as jest.Mocked<ClusterRepository>;
}

const serviceFor = (cluster: ClusterRepository, config: AppConfig) =>
  new TenantPlacementService(cluster, new TransferModeService(cluster, config));

describe(TenantPlacementService.name, () => {
  const blockWrites = configWith('block_writes');

  describe('tenants', () => {
    it('should ask for one tenant more than the limit and page by tenant id', async () => {
      const cluster = fakeCluster({ tenants: [tenantRow('1'), tenantRow('2'), tenantRow('3')] });
      const answer = await serviceFor(cluster, blockWrites).tenants(2, '0');
      expect(cluster.tenants).toHaveBeenCalledWith({ cursor: '0', limit: 3 });
      expect(answer.items.map((item) => item.id)).toEqual(['1', '2']);
      expect(answer.nextCursor).toBe('2');
      expect(cluster.counts).toHaveBeenCalledWith(['1', '2']);
    });

    it('should describe tenants of a plain PostgreSQL without placement or load queries', async () => {
      const cluster = fakeCluster({ citus: false });
      cluster.counts.mockResolvedValue([
        { tenantId: '7', kind: 'users', n: 3 },
        { tenantId: '7', kind: 'notes', n: 12 },
      ]);
      const answer = await serviceFor(cluster, blockWrites).tenants(20);
      expect(answer.citus).toBe(false);
      expect(answer.loadTracking).toEqual({ enabled: false, setting: 'unavailable' });
      expect(answer.items).toEqual([
        {
          ...tenantRow('7'),
          shardId: null,
          isolated: false,
          node: null,
          users: 3,
          notes: 12,
          load: null,
        },
      ]);
      expect(answer.nextCursor).toBeNull();
      expect(cluster.placementsOf).not.toHaveBeenCalled();
      expect(cluster.tenantLoad).not.toHaveBeenCalled();
    });

    it('should join placements, counts and load to each tenant on Citus', async () => {
      const cluster = fakeCluster({
        tenants: [tenantRow('7'), tenantRow('8')],
        placements: [placement('7', true, W2), placement('8')],
      });
      cluster.counts.mockResolvedValue([{ tenantId: '8', kind: 'notes', n: 4 }]);
      cluster.tenantLoad.mockResolvedValue({
        setting: 'all',
        rows: [
          {
            tenant_attribute: '7',
            query_count_in_this_period: '5',
            query_count_in_last_period: 4,
            read_count_in_this_period: '3',
            read_count_in_last_period: 2,
            cpu_usage_in_this_period: '0.5',
            cpu_usage_in_last_period: 0.25,
          },
        ],
      });
      const answer = await serviceFor(cluster, blockWrites).tenants(20);
      expect(answer.loadTracking).toEqual({ enabled: true, setting: 'all' });
      const [seven, eight] = answer.items;
      expect(seven).toMatchObject({ shardId: '102007', isolated: true, node: W2, users: 0 });
      expect(seven.load).toEqual({
        queriesThisPeriod: 5,
        queriesLastPeriod: 4,
        readsThisPeriod: 3,
        readsLastPeriod: 2,
        cpuThisPeriod: 0.5,
        cpuLastPeriod: 0.25,
      });
      expect(eight).toMatchObject({ shardId: '102008', isolated: false, node: W1, notes: 4 });
      expect(eight.load).toBeNull();
    });

    it("should report load tracking off when citus.stat_tenants_track is 'none'", async () => {
      const cluster = fakeCluster();
      cluster.tenantLoad.mockResolvedValue({ setting: 'none', rows: [] });
      const answer = await serviceFor(cluster, blockWrites).tenants(20);
      expect(answer.loadTracking).toEqual({ enabled: false, setting: 'none' });
    });
  });

  describe('tenant', () => {
    it('should answer TENANT_NOT_FOUND for an unknown tenant', async () => {
      const cluster = fakeCluster();
      await expect(serviceFor(cluster, blockWrites).tenant('404')).rejects.toMatchObject({
        code: 'TENANT_NOT_FOUND',
      });
      expect(cluster.tenants).toHaveBeenCalledWith({ id: '404' });
    });
  });

  describe('isolate', () => {
    it('should answer CITUS_REQUIRED on a plain PostgreSQL', async () => {
      const cluster = fakeCluster({ citus: false });
      const error = await serviceFor(cluster, blockWrites)
        .isolate('7', {})
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'CITUS_REQUIRED' });
      expect(cluster.isolate).not.toHaveBeenCalled();
    });

    it('should answer CITUS_REQUIRED when the tenant has no shard placement', async () => {
      const cluster = fakeCluster({ placements: [] });
      await expect(serviceFor(cluster, blockWrites).isolate('7', {})).rejects.toMatchObject({
        code: 'CITUS_REQUIRED',
      });
      expect(cluster.isolate).not.toHaveBeenCalled();
    });

    it('should answer TENANT_NOT_FOUND for an unknown tenant', async () => {
      const cluster = fakeCluster();
      await expect(serviceFor(cluster, blockWrites).isolate('404', {})).rejects.toMatchObject({
        code: 'TENANT_NOT_FOUND',
      });
      expect(cluster.isolate).not.toHaveBeenCalled();
    });

    it('should refuse a tenant that already has a shard to itself with ALREADY_ISOLATED', async () => {
      const cluster = fakeCluster({ placements: [placement('7', true)] });
      await expect(
        serviceFor(cluster, blockWrites).isolate('7', { targetNodeId: 3 }),
      ).rejects.toMatchObject({ code: 'ALREADY_ISOLATED' });
      expect(cluster.isolate).not.toHaveBeenCalled();
      expect(cluster.moveShard).not.toHaveBeenCalled();
    });

    it('should refuse a target that is not an active shard holder with VALIDATION_FAILED, before splitting', async () => {
      const cluster = fakeCluster();
      await expect(
        serviceFor(cluster, blockWrites).isolate('7', { targetNodeId: 99 }),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { errors: ['targetNodeId must be an active node that may hold shards'] },
      });
      expect(cluster.shardHolder).toHaveBeenCalledWith(99);
      expect(cluster.isolate).not.toHaveBeenCalled();
    });

    it('should split with the configured mode and stay put without a target', async () => {
      const cluster = fakeCluster();
      const answer = await serviceFor(cluster, configWith('force_logical')).isolate('7', {});
      expect(cluster.isolate).toHaveBeenCalledTimes(1);
      expect(cluster.isolate).toHaveBeenCalledWith('7', 'force_logical');
      expect(cluster.moveShard).not.toHaveBeenCalled();
      expect(cluster.nodeOfShard).toHaveBeenCalledWith('102999');
      expect(answer).toEqual({
        tenantId: '7',
        shardId: '102999',
        node: W1,
        previousShardId: '102007',
        previousNode: W1,
        moved: false,
        transferMode: 'force_logical',
      });
    });

    it('should not move the new shard when the target is the node it is on', async () => {
      const cluster = fakeCluster();
      const answer = await serviceFor(cluster, blockWrites).isolate('7', {
        targetNodeId: W1.id,
      });
      expect(answer.moved).toBe(false);
      expect(cluster.moveShard).not.toHaveBeenCalled();
    });

    it('should move the new shard from its node to another target, with the same mode', async () => {
      const cluster = fakeCluster();
      cluster.nodeOfShard.mockResolvedValue(W2);
      const answer = await serviceFor(cluster, configWith('auto')).isolate('7', {
        targetNodeId: W2.id,
      });
      expect(cluster.moveShard).toHaveBeenCalledWith('102999', W1, W2, 'auto');
      expect(answer).toMatchObject({
        moved: true,
        node: W2,
        previousNode: W1,
        transferMode: 'auto',
      });
    });

    it('should fall back to block_writes when the output plugin is not allowed, and say so', async () => {
      const cluster = fakeCluster();
      cluster.isolate.mockRejectedValueOnce(OUTPUT_PLUGIN_ERROR);
      const answer = await serviceFor(cluster, configWith('auto')).isolate('7', {
        targetNodeId: W2.id,
      });
      expect(cluster.isolate.mock.calls).toEqual([
        ['7', 'auto'],
        ['7', 'block_writes'],
      ]);
      expect(cluster.moveShard).toHaveBeenCalledWith('102999', W1, W2, 'block_writes');
      expect(answer.transferMode).toBe('block_writes');
    });

    it('should rethrow other isolation errors without retrying', async () => {
      const cluster = fakeCluster();
      const failure = new Error('could not connect to w1');
      cluster.isolate.mockRejectedValueOnce(failure);
      await expect(serviceFor(cluster, configWith('auto')).isolate('7', {})).rejects.toBe(failure);
      expect(cluster.isolate).toHaveBeenCalledTimes(1);
    });

    it.each(['block_writes', 'force_logical'] as const)(
      'should rethrow the output plugin error in %s mode (only auto may fall back)',
      async (mode) => {
        const cluster = fakeCluster();
        cluster.isolate.mockRejectedValueOnce(OUTPUT_PLUGIN_ERROR);
        await expect(serviceFor(cluster, configWith(mode)).isolate('7', {})).rejects.toBe(
          OUTPUT_PLUGIN_ERROR,
        );
        expect(cluster.isolate).toHaveBeenCalledTimes(1);
      },
    );
  });
});
