import { AppConfig, loadConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { ClusterRepository } from './cluster.repository';
import { RebalanceJob } from './cluster-rows';
import { RebalanceService } from './rebalance.service';
import { TransferModeService } from './transfer-mode.service';

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
  CITUS_SHARD_TRANSFER_MODE: 'force_logical',
});

const job = (jobId: string, state: string): RebalanceJob => ({
  jobId,
  state,
  description: 'Rebalance all colocation groups',
  startedAt: new Date(0),
  finishedAt: state === 'finished' ? new Date(1) : null,
  details: null,
});

function fakeCluster(citus: boolean): jest.Mocked<ClusterRepository> {
  const cluster = {
    isCitus: jest.fn(() => Promise.resolve(citus)),
    latestRebalance: jest.fn(() => Promise.resolve(undefined)),
    startRebalance: jest.fn(() => Promise.resolve(null)),
    asynchronousCommits: jest.fn(() => Promise.resolve([])),
  };
  return cluster as unknown as jest.Mocked<ClusterRepository>;
}

const rebalanceFor = (cluster: ClusterRepository) =>
  new RebalanceService(cluster, new TransferModeService(cluster, config));

describe(RebalanceService.name, () => {
  describe('start', () => {
    it('should answer CITUS_REQUIRED on a plain PostgreSQL', async () => {
      const cluster = fakeCluster(false);
      const error = await rebalanceFor(cluster)
        .start()
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'CITUS_REQUIRED' });
      expect(cluster.startRebalance).not.toHaveBeenCalled();
    });

    it.each(['running', 'scheduled', 'cancelling', 'failing'])(
      'should refuse with REBALANCE_RUNNING while the latest job is %s',
      async (state) => {
        const cluster = fakeCluster(true);
        cluster.latestRebalance.mockResolvedValue(job('12', state));
        await expect(rebalanceFor(cluster).start()).rejects.toMatchObject({
          code: 'REBALANCE_RUNNING',
          message: `Rebalance job 12 is ${state}`,
        });
        expect(cluster.startRebalance).not.toHaveBeenCalled();
      },
    );

    it("should answer 'balanced' without a job when there is nothing to move", async () => {
      const cluster = fakeCluster(true);
      cluster.startRebalance.mockResolvedValue(null);
      await expect(rebalanceFor(cluster).start()).resolves.toEqual({
        jobId: null,
        state: 'balanced',
        description: 'No moves available: the shards are already balanced',
        startedAt: null,
        finishedAt: null,
        details: null,
      });
    });

    it('should start a job with the configured transfer mode after a finished one, and answer its status', async () => {
      const cluster = fakeCluster(true);
      cluster.latestRebalance
        .mockResolvedValueOnce(job('12', 'finished'))
        .mockResolvedValueOnce(job('13', 'running'));
      cluster.startRebalance.mockResolvedValue('13');
      await expect(rebalanceFor(cluster).start()).resolves.toEqual(job('13', 'running'));
      expect(cluster.startRebalance).toHaveBeenCalledWith('force_logical');
    });
  });

  describe('status', () => {
    it("should answer 'none' on a plain PostgreSQL without asking Citus", async () => {
      const cluster = fakeCluster(false);
      await expect(rebalanceFor(cluster).status()).resolves.toMatchObject({
        jobId: null,
        state: 'none',
        description: 'Not a Citus cluster',
      });
      expect(cluster.latestRebalance).not.toHaveBeenCalled();
    });

    it("should answer 'none' when no rebalance has run", async () => {
      const cluster = fakeCluster(true);
      await expect(rebalanceFor(cluster).status()).resolves.toMatchObject({
        jobId: null,
        state: 'none',
        description: 'No rebalance has run',
      });
    });

    it('should answer the latest job', async () => {
      const cluster = fakeCluster(true);
      cluster.latestRebalance.mockResolvedValue(job('12', 'failed'));
      await expect(rebalanceFor(cluster).status()).resolves.toEqual(job('12', 'failed'));
    });
  });
});
