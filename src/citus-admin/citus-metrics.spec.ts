import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { loadConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { CitusMetrics, CLUSTER_PROBE_MAX_AGE_MS } from './citus-metrics';
import { ClusterRepository } from './cluster.repository';
import { RebalanceJob } from './cluster-rows';
import { RebalanceService } from './rebalance.service';
import { TransferModeService } from './transfer-mode.service';

const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://u@localhost/db' });

const COORDINATOR = { id: 1, host: 'coordinator', port: 5432, reachable: true };
const WORKER_1 = { id: 2, host: 'worker1', port: 5432, reachable: true };
const WORKER_2 = { id: 3, host: 'worker2', port: 5433, reachable: false };

const job = (state: string): RebalanceJob => ({
  jobId: '7',
  state,
  description: null,
  startedAt: null,
  finishedAt: null,
  details: null,
});

/** Node's error when nothing listens on the coordinator's port. */
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function fakeCluster(citus = true) {
  return {
    isCitus: jest.fn(() => Promise.resolve(citus)),
    nodeReach: jest.fn(() => Promise.resolve([COORDINATOR, WORKER_1, WORKER_2])),
    latestRebalance: jest.fn(() => Promise.resolve<RebalanceJob | undefined>(job('finished'))),
  };
}

describe(CitusMetrics.name, () => {
  let now: number;
  let cluster: ReturnType<typeof fakeCluster>;
  let registry: Registry;

  const build = () => {
    const repository = cluster as unknown as ClusterRepository;
    const rebalance = new RebalanceService(repository, new TransferModeService(repository, config));
    registry = new Registry();
    return new CitusMetrics(repository, rebalance, { registry } as MetricsService);
  };
  /** The Citus lines of a scrape, taken `ms` after the previous one. */
  const scrape = async (ms = CLUSTER_PROBE_MAX_AGE_MS) => {
    now += ms;
    return (await registry.metrics()).split('\n').filter((line) => /^citus_/.test(line));
  };

  beforeEach(() => {
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    cluster = fakeCluster();
  });

  afterEach(() => jest.restoreAllMocks());

  it('should report every node and whether a rebalance runs', async () => {
    build();
    expect(await scrape()).toEqual([
      'citus_node_up{node="coordinator:5432"} 1',
      'citus_node_up{node="worker1:5432"} 1',
      'citus_node_up{node="worker2:5433"} 0',
      'citus_rebalance_running 0',
    ]);
    cluster.latestRebalance.mockResolvedValue(job('running'));
    expect(await scrape()).toContain('citus_rebalance_running 1');
  });

  it('should have no samples on plain PostgreSQL', async () => {
    cluster = fakeCluster(false);
    build();
    expect(await scrape()).toEqual([]);
    expect(cluster.nodeReach).not.toHaveBeenCalled();
  });

  it('should ask the coordinator at most once per 5 s, one statement at a time', async () => {
    build();
    let inFlight = 0;
    let most = 0;
    const track =
      <T>(value: T) =>
      async () => {
        most = Math.max(most, (inFlight += 1));
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return value;
      };
    cluster.nodeReach.mockImplementation(track([COORDINATOR, WORKER_1]));
    cluster.latestRebalance.mockImplementation(track(job('finished')));
    await Promise.all([scrape(), scrape(0), scrape(0)]);
    await scrape(CLUSTER_PROBE_MAX_AGE_MS - 1);
    expect(cluster.nodeReach).toHaveBeenCalledTimes(1);
    expect(most).toBe(1);
    await scrape(1);
    expect(cluster.nodeReach).toHaveBeenCalledTimes(2);
  });

  it('should report every known node down, and no rebalance state, once the coordinator stops answering', async () => {
    build();
    await scrape();
    cluster.nodeReach.mockRejectedValue(refused());
    expect(await scrape()).toEqual([
      'citus_node_up{node="coordinator:5432"} 0',
      'citus_node_up{node="worker1:5432"} 0',
      'citus_node_up{node="worker2:5433"} 0',
    ]);
    cluster.nodeReach.mockResolvedValue([COORDINATOR, WORKER_1, { ...WORKER_2, reachable: true }]);
    expect(await scrape()).toEqual([
      'citus_node_up{node="coordinator:5432"} 1',
      'citus_node_up{node="worker1:5432"} 1',
      'citus_node_up{node="worker2:5433"} 1',
      'citus_rebalance_running 0',
    ]);
  });

  it('should answer a scrape with nothing when the database was never reached', async () => {
    cluster.isCitus.mockRejectedValue(refused());
    build();
    await expect(scrape()).resolves.toEqual([]);
  });

  it('should keep the last answer when the admin pool is busy or a statement fails otherwise', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    build();
    const before = await scrape();
    cluster.nodeReach.mockRejectedValue(new Error('timeout exceeded when trying to connect'));
    expect(await scrape()).toEqual(before);
    cluster.nodeReach.mockRejectedValue(
      new Error('function run_command_on_workers does not exist'),
    );
    expect(await scrape()).toEqual(before);
    expect(warn).toHaveBeenCalledTimes(2);
  });
});
