import { AppError } from '../errors/app-error';
import { CatalogService } from './catalog.service';
import { ClusterRepository } from './cluster.repository';
import { NodeRow } from './cluster-rows';
import { ShardView, TableView } from './dto/catalog.dto';

/** Every repository method a jest.fn; unconfigured ones answer undefined. */
function fakeCluster(citus: boolean): jest.Mocked<ClusterRepository> {
  const cluster = {
    isCitus: jest.fn(() => Promise.resolve(citus)),
    standalone: jest.fn(),
    nodes: jest.fn(),
    healthChecks: jest.fn(),
    shardCounts: jest.fn(() => Promise.resolve(new Map<number, number>())),
    latestRebalance: jest.fn(() => Promise.resolve(undefined)),
    localTables: jest.fn(),
    citusTables: jest.fn(),
    distributedTableNames: jest.fn(),
    placements: jest.fn(),
    activity: jest.fn(() => Promise.resolve([])),
  };
  return cluster as unknown as jest.Mocked<ClusterRepository>;
}

const node = (id: number, host: string, groupId: number): NodeRow => ({
  id,
  host,
  port: 5432,
  groupId,
  active: true,
  shouldHaveShards: groupId !== 0,
});

const table = (name: string, type: string): TableView => ({
  name,
  type,
  distributionColumn: null,
  colocationId: null,
  shardCount: 0,
  sizeBytes: 1,
});

const shard = (placementId: string): ShardView => ({
  placementId,
  shardId: `10${placementId}`,
  table: 'notes',
  minValue: '0',
  maxValue: '1',
  node: { id: 2, host: 'w1', port: 5432 },
  sizeBytes: 8192,
});

describe(CatalogService.name, () => {
  describe('nodes', () => {
    it('should describe a plain PostgreSQL as one healthy standalone node, without Citus queries', async () => {
      const cluster = fakeCluster(false);
      cluster.standalone.mockResolvedValue({ id: 1, host: 'db', port: 5432 });
      const answer = await new CatalogService(cluster).nodes();
      expect(answer.citus).toBe(false);
      expect(answer.checkedAt).toBeInstanceOf(Date);
      expect(answer.nodes).toEqual([
        {
          id: 1,
          host: 'db',
          port: 5432,
          role: 'standalone',
          groupId: 0,
          active: true,
          shouldHaveShards: true,
          healthy: true,
          checksPassed: 1,
          checksTotal: 1,
          shardCount: 0,
          draining: false,
        },
      ]);
      expect(cluster.nodes).not.toHaveBeenCalled();
      expect(cluster.healthChecks).not.toHaveBeenCalled();
    });

    it('should count the checks to each node (by host and port) and call it healthy only when all passed', async () => {
      const cluster = fakeCluster(true);
      cluster.nodes.mockResolvedValue([
        node(1, 'coordinator', 0),
        node(2, 'w1', 1),
        node(3, 'w2', 2),
        node(4, 'w3', 3),
      ]);
      cluster.healthChecks.mockResolvedValue([
        { toHost: 'coordinator', toPort: 5432, ok: true },
        { toHost: 'coordinator', toPort: 5432, ok: true },
        { toHost: 'w1', toPort: 5432, ok: true },
        { toHost: 'w1', toPort: 5432, ok: false },
        { toHost: 'w2', toPort: 5432, ok: true },
        // Same host, another port: another server, so not a check of w2.
        { toHost: 'w2', toPort: 6432, ok: false },
      ]);
      const answer = await new CatalogService(cluster).nodes();
      expect(answer.citus).toBe(true);
      expect(
        answer.nodes.map(({ host, role, healthy, checksPassed, checksTotal }) => ({
          host,
          role,
          healthy,
          checksPassed,
          checksTotal,
        })),
      ).toEqual([
        {
          host: 'coordinator',
          role: 'coordinator',
          healthy: true,
          checksPassed: 2,
          checksTotal: 2,
        },
        { host: 'w1', role: 'worker', healthy: false, checksPassed: 1, checksTotal: 2 },
        { host: 'w2', role: 'worker', healthy: true, checksPassed: 1, checksTotal: 1 },
        // Nothing checked it: not known to be healthy.
        { host: 'w3', role: 'worker', healthy: false, checksPassed: 0, checksTotal: 0 },
      ]);
    });

    it('should give each node its shard count and say draining only while a job moves them off', async () => {
      const cluster = fakeCluster(true);
      const draining = { ...node(3, 'w2', 2), shouldHaveShards: false };
      cluster.nodes.mockResolvedValue([node(1, 'coordinator', 0), node(2, 'w1', 1), draining]);
      cluster.healthChecks.mockResolvedValue([]);
      cluster.shardCounts.mockResolvedValue(
        new Map([
          [1, 20],
          [2, 4],
        ]),
      );
      const job = (state: string) => ({
        jobId: '5',
        state,
        description: null,
        startedAt: null,
        finishedAt: null,
        details: null,
      });
      cluster.latestRebalance.mockResolvedValue(job('running'));
      const during = await new CatalogService(cluster).nodes();
      expect(during.nodes.map(({ shardCount, draining }) => ({ shardCount, draining }))).toEqual([
        { shardCount: 0, draining: false },
        { shardCount: 20, draining: false },
        { shardCount: 4, draining: true },
      ]);
      cluster.latestRebalance.mockResolvedValue(job('failed'));
      const after = await new CatalogService(cluster).nodes();
      expect(after.nodes[2]).toMatchObject({ shardCount: 4, draining: false });
    });
  });

  describe('tables', () => {
    it('should list local tables on a plain PostgreSQL', async () => {
      const cluster = fakeCluster(false);
      cluster.localTables.mockResolvedValue([table('notes', 'local')]);
      await expect(new CatalogService(cluster).tables()).resolves.toEqual({
        citus: false,
        tables: [table('notes', 'local')],
      });
      expect(cluster.citusTables).not.toHaveBeenCalled();
    });

    it('should list the Citus tables on Citus', async () => {
      const cluster = fakeCluster(true);
      cluster.citusTables.mockResolvedValue([table('notes', 'distributed')]);
      await expect(new CatalogService(cluster).tables()).resolves.toEqual({
        citus: true,
        tables: [table('notes', 'distributed')],
      });
      expect(cluster.localTables).not.toHaveBeenCalled();
    });
  });

  describe('shards', () => {
    it('should answer an empty page on a plain PostgreSQL without asking for placements', async () => {
      const cluster = fakeCluster(false);
      await expect(new CatalogService(cluster).shards({ table: 'nope' })).resolves.toEqual({
        citus: false,
        items: [],
        nextCursor: null,
      });
      expect(cluster.distributedTableNames).not.toHaveBeenCalled();
      expect(cluster.placements).not.toHaveBeenCalled();
    });

    it('should answer VALIDATION_FAILED naming the distributed tables for an unknown table', async () => {
      const cluster = fakeCluster(true);
      cluster.distributedTableNames.mockResolvedValue(['invitations', 'notes', 'users']);
      const error = await new CatalogService(cluster)
        .shards({ table: 'nope' })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: 'table must be one of: invitations, notes, users',
        details: { errors: ['table must be one of: invitations, notes, users'] },
      });
      expect(cluster.placements).not.toHaveBeenCalled();
    });

    it('should pass the filters on, ask for one row more than the limit and page by placement id', async () => {
      const cluster = fakeCluster(true);
      cluster.distributedTableNames.mockResolvedValue(['notes', 'users']);
      cluster.placements.mockResolvedValue([shard('1'), shard('2'), shard('3')]);
      const answer = await new CatalogService(cluster).shards({
        table: 'notes',
        node: 2,
        cursor: '0',
        limit: 2,
      });
      expect(cluster.placements).toHaveBeenCalledWith({
        table: 'notes',
        node: 2,
        cursor: '0',
        limit: 3,
      });
      expect(answer).toEqual({ citus: true, items: [shard('1'), shard('2')], nextCursor: '2' });
    });

    it('should answer the last page with a null cursor, at the default page size', async () => {
      const cluster = fakeCluster(true);
      cluster.placements.mockResolvedValue([shard('1')]);
      const answer = await new CatalogService(cluster).shards({});
      expect(cluster.distributedTableNames).not.toHaveBeenCalled();
      expect(cluster.placements).toHaveBeenCalledWith({ limit: 21 });
      expect(answer.nextCursor).toBeNull();
    });
  });

  describe('activity', () => {
    it.each([true, false])(
      'should read activity the way a citus=%s server needs',
      async (citus) => {
        const cluster = fakeCluster(citus);
        await expect(new CatalogService(cluster).activity()).resolves.toEqual({
          citus,
          activity: [],
        });
        expect(cluster.activity).toHaveBeenCalledWith(citus);
      },
    );
  });
});
