import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig, ShardTransferMode } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../errors/app-error';
import { ClusterRepository } from './cluster.repository';

const REPORT = 'docs/citus-logical-move-write-loss.md';

/**
 * The shard transfer mode an operation may use now. Citus' logical transfers (auto,
 * force_logical) can leave acknowledged writes behind when a node commits asynchronously
 * (synchronous_commit = off; see the report), so before each operation the nodes are checked:
 * `auto` then blocks writes instead, and `force_logical`, which promises never to block them,
 * refuses. `block_writes` needs no check.
 */
@Injectable()
export class TransferModeService {
  private readonly logger = new Logger(TransferModeService.name);

  constructor(
    private readonly cluster: ClusterRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async resolve(): Promise<ShardTransferMode> {
    const configured = this.config.shardTransferMode;
    if (configured === 'block_writes') return configured;
    const unsafe = await this.cluster.asynchronousCommits();
    if (unsafe.length === 0) return configured;
    const where = unsafe.join('; ');
    if (configured === 'force_logical') {
      throw new AppError(
        'ASYNCHRONOUS_COMMITS',
        `A logical shard transfer could lose acknowledged writes: ${where} (see ${REPORT}). ` +
          'Commit synchronously on every node, or use CITUS_SHARD_TRANSFER_MODE=block_writes',
        { nodes: unsafe },
      );
    }
    this.logger.warn(`Shard transfer with block_writes instead of auto: ${where} (see ${REPORT})`);
    return 'block_writes';
  }
}
