import { Logger } from '@nestjs/common';
import { loadConfig, ShardTransferMode } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { ClusterRepository } from './cluster.repository';
import { TransferModeService } from './transfer-mode.service';

const ASYNC_WORKER = 'w1:5432: synchronous_commit = off from the configuration file';

function serviceWith(mode: ShardTransferMode | undefined, unsafe: string[]) {
  const cluster = {
    asynchronousCommits: jest.fn(() => Promise.resolve(unsafe)),
  } as unknown as jest.Mocked<ClusterRepository>;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://u@localhost/db',
    BCRYPT_COST: '4',
    ...(mode ? { CITUS_SHARD_TRANSFER_MODE: mode } : {}),
  });
  return { service: new TransferModeService(cluster, config), cluster };
}

describe(TransferModeService.name, () => {
  it('should default to auto when every node commits synchronously', async () => {
    const { service, cluster } = serviceWith(undefined, []);
    await expect(service.resolve()).resolves.toBe('auto');
    expect(cluster.asynchronousCommits).toHaveBeenCalledTimes(1);
  });

  it('should keep force_logical when every node commits synchronously', async () => {
    const { service } = serviceWith('force_logical', []);
    await expect(service.resolve()).resolves.toBe('force_logical');
  });

  it('should block writes instead of auto while a node commits asynchronously, and warn', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const { service } = serviceWith('auto', [ASYNC_WORKER]);
      await expect(service.resolve()).resolves.toBe('block_writes');
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('w1:5432'));
    } finally {
      warn.mockRestore();
    }
  });

  it('should refuse force_logical while a node commits asynchronously, naming the node', async () => {
    const { service } = serviceWith('force_logical', [ASYNC_WORKER]);
    const error = await service.resolve().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'ASYNCHRONOUS_COMMITS',
      status: 409,
      details: { nodes: [ASYNC_WORKER] },
    });
    expect((error as AppError).message).toContain('w1:5432');
  });

  it('should not look at the nodes for block_writes', async () => {
    const { service, cluster } = serviceWith('block_writes', [ASYNC_WORKER]);
    await expect(service.resolve()).resolves.toBe('block_writes');
    expect(cluster.asynchronousCommits).not.toHaveBeenCalled();
  });
});
