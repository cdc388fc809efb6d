import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { Logger } from 'pino';
import { AppConfig, loadConfig } from '../config/app-config';
import { CatalogService } from './catalog.service';
import { ClusterRepository } from './cluster.repository';
import { NodeRow } from './cluster-rows';
import { NodesService } from './nodes.service';
import { RebalanceService } from './rebalance.service';
import { TransferModeService } from './transfer-mode.service';

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
});
const logger = { warn: jest.fn() } as unknown as Logger;

const node = (id: number, groupId: number, shouldHaveShards = true): NodeRow => ({
  id,
  groupId,
  host: `10.0.0.${id}`,
  port: 5432,
  active: true,
  shouldHaveShards,
});
const COORDINATOR = node(1, 0, false);
const W1 = node(2, 1);
const W2 = node(3, 2);

function serverError(code: string, message: string): QueryFailedError {
  const driverError = Object.assign(new DatabaseError(message, 0, 'error'), {
    code,
    severity: 'ERROR',
  });
  return new QueryFailedError('SELECT', [], driverError);
}

function setup(
  options: { citus?: boolean; nodes?: NodeRow[]; shards?: Array<[number, number]> } = {},
) {
  const nodes = options.nodes ?? [COORDINATOR, W1, W2];
  const cluster = {
    isCitus: jest.fn(() => Promise.resolve(options.citus ?? true)),
    nodes: jest.fn(() => Promise.resolve(nodes)),
    node: jest.fn((id: number) => Promise.resolve(nodes.find((n) => n.id === id))),
    nodeAt: jest.fn((host: string, port: number) =>
      Promise.resolve(nodes.find((n) => n.host === host && n.port === port)),
    ),
    shardCounts: jest.fn(() => Promise.resolve(new Map(options.shards ?? []))),
    addNode: jest.fn(() => Promise.resolve(9)),
    removeNode: jest.fn(() => Promise.resolve()),
    latestRebalance: jest.fn(() => Promise.resolve(undefined)),
    setShouldHaveShards: jest.fn(() => Promise.resolve()),
    startDrain: jest.fn(() => Promise.resolve('7')),
    asynchronousCommits: jest.fn(() => Promise.resolve([])),
  } as unknown as jest.Mocked<ClusterRepository>;
  const catalog = {
    nodes: jest.fn(() =>
      Promise.resolve({
        citus: true,
        checkedAt: new Date(0),
        nodes: [...nodes, node(9, 5)].map((n) => ({ ...n, role: 'worker', shardCount: 0 })),
      }),
    ),
  } as unknown as CatalogService;
  const rebalance = new RebalanceService(cluster, new TransferModeService(cluster, config));
  return { service: new NodesService(cluster, catalog, rebalance, config, logger), cluster };
}

describe(NodesService.name, () => {
  it('should answer CITUS_REQUIRED for every change on a plain PostgreSQL', async () => {
    const { service, cluster } = setup({ citus: false });
    await expect(service.add({ host: 'w3', port: 5432 })).rejects.toMatchObject({
      code: 'CITUS_REQUIRED',
    });
    await expect(service.drain(2)).rejects.toMatchObject({ code: 'CITUS_REQUIRED' });
    await expect(service.remove(2)).rejects.toMatchObject({ code: 'CITUS_REQUIRED' });
    expect(cluster.addNode).not.toHaveBeenCalled();
  });

  describe('add', () => {
    it('should add a new node and answer it, or answer an existing one unchanged', async () => {
      const { service, cluster } = setup();
      await expect(service.add({ host: '10.0.0.13', port: 5432 })).resolves.toMatchObject({
        added: true,
        node: { id: 9 },
      });
      expect(cluster.addNode).toHaveBeenCalledWith('10.0.0.13', 5432);
      cluster.addNode.mockClear();
      await expect(service.add({ host: W1.host, port: W1.port })).resolves.toMatchObject({
        added: false,
        node: { id: W1.id },
      });
      expect(cluster.addNode).not.toHaveBeenCalled();
    });

    it('should say only unreachable or refused, and log what answered there (not a port scanner)', async () => {
      const { service, cluster } = setup();
      cluster.addNode.mockRejectedValueOnce(
        serverError('08006', 'connection to the remote node postgres@w9:5432 failed\nmore'),
      );
      await expect(service.add({ host: 'w9', port: 5432 })).rejects.toEqual(
        expect.objectContaining({
          code: 'NODE_UNREACHABLE',
          message: 'The coordinator cannot connect to w9:5432',
        }),
      );
      cluster.addNode.mockRejectedValueOnce(
        serverError('XX000', 'received invalid response: "SSH-2.0-OpenSSH_9.2"'),
      );
      await expect(service.add({ host: 'w9', port: 5432 })).rejects.toEqual(
        expect.objectContaining({
          code: 'NODE_REJECTED',
          message: 'Citus refused w9:5432 as a worker; the service log says why',
        }),
      );
      expect(logger.warn).toHaveBeenLastCalledWith(
        { address: 'w9:5432', detail: 'received invalid response: "SSH-2.0-OpenSSH_9.2"' },
        'NODE_REJECTED: w9:5432',
      );
      // The coordinator itself gone: not the node's fault; the filter answers 503.
      const dropped = new Error('Connection terminated unexpectedly');
      cluster.addNode.mockRejectedValueOnce(dropped);
      await expect(service.add({ host: 'w9', port: 5432 })).rejects.toBe(dropped);
    });
  });

  describe('drain', () => {
    it('should refuse unknown nodes, the coordinator and the last worker that takes shards', async () => {
      await expect(setup().service.drain(42)).rejects.toMatchObject({ code: 'NODE_NOT_FOUND' });
      await expect(setup().service.drain(COORDINATOR.id)).rejects.toMatchObject({
        code: 'NOT_A_WORKER',
      });
      const lonely = setup({ nodes: [COORDINATOR, W1, node(3, 2, false)] });
      await expect(lonely.service.drain(W1.id)).rejects.toMatchObject({ code: 'NO_TARGET_NODE' });
      expect(lonely.cluster.setShouldHaveShards).not.toHaveBeenCalled();
    });

    it('should stop new shards landing on the node, then start the drain job', async () => {
      const { service, cluster } = setup();
      cluster.latestRebalance.mockResolvedValue({
        jobId: '7',
        state: 'running',
        description: null,
        startedAt: null,
        finishedAt: null,
        details: null,
      });
      // The job check comes first: a running job refuses before anything changes.
      await expect(service.drain(W2.id)).rejects.toMatchObject({ code: 'REBALANCE_RUNNING' });
      expect(cluster.setShouldHaveShards).not.toHaveBeenCalled();
      cluster.latestRebalance.mockResolvedValueOnce(undefined);
      await expect(service.drain(W2.id)).resolves.toMatchObject({ jobId: '7', state: 'running' });
      expect(cluster.setShouldHaveShards).toHaveBeenCalledWith(W2, false);
      expect(cluster.startDrain).toHaveBeenCalledWith(config.shardTransferMode);
    });

    it('should answer balanced when the node holds nothing, and undo the mark when the job cannot start', async () => {
      const { service, cluster } = setup();
      cluster.startDrain.mockResolvedValueOnce(null);
      await expect(service.drain(W2.id)).resolves.toMatchObject({ jobId: null, state: 'balanced' });
      cluster.startDrain.mockRejectedValueOnce(serverError('XX000', 'no'));
      await expect(service.drain(W2.id)).rejects.toBeInstanceOf(QueryFailedError);
      expect(cluster.setShouldHaveShards).toHaveBeenLastCalledWith(W2, true);
    });
  });

  describe('remove', () => {
    it('should refuse a node that still holds shards, saying how many', async () => {
      const { service, cluster } = setup({ shards: [[W2.groupId, 5]] });
      await expect(service.remove(W2.id)).rejects.toMatchObject({
        code: 'NODE_NOT_EMPTY',
        details: { shardCount: 5 },
      });
      expect(cluster.removeNode).not.toHaveBeenCalled();
    });

    it('should remove an empty worker, and never the coordinator', async () => {
      const { service, cluster } = setup({ shards: [[W1.groupId, 5]] });
      await service.remove(W2.id);
      expect(cluster.removeNode).toHaveBeenCalledWith(W2);
      await expect(service.remove(COORDINATOR.id)).rejects.toMatchObject({ code: 'NOT_A_WORKER' });
    });

    it('should answer NODE_NOT_EMPTY when shards arrived between the check and the removal', async () => {
      const { service, cluster } = setup();
      cluster.shardCounts
        .mockResolvedValueOnce(new Map())
        .mockResolvedValueOnce(new Map([[W2.groupId, 1]]));
      cluster.removeNode.mockRejectedValueOnce(serverError('55000', 'cannot remove the node'));
      await expect(service.remove(W2.id)).rejects.toMatchObject({ code: 'NODE_NOT_EMPTY' });
    });
  });
});

describe('NodesService with CITUS_WORKER_HOSTS', () => {
  it('should refuse a host outside the list, naming the list, before asking Citus', async () => {
    const limited = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: 'postgres://u@localhost/db',
      BCRYPT_COST: '4',
      CITUS_WORKER_HOSTS: 'w9, 10.0.0.13',
    });
    const cluster = {
      isCitus: jest.fn(() => Promise.resolve(true)),
      nodeAt: jest.fn(() => Promise.resolve(undefined)),
      addNode: jest.fn(),
    } as unknown as ClusterRepository;
    const service = new NodesService(
      cluster,
      {} as CatalogService,
      {} as RebalanceService,
      limited,
      logger,
    );
    await expect(service.add({ host: '169.254.169.254', port: 80 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { errors: ['host must be one of: w9, 10.0.0.13'] },
    });
    expect(cluster.addNode).not.toHaveBeenCalled();
  });
});
