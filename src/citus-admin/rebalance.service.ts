import { Injectable } from '@nestjs/common';
import { AppError } from '../errors/app-error';
import { citusRequired } from './citus-required';
import { ClusterRepository } from './cluster.repository';
import { TransferModeService } from './transfer-mode.service';
import { UNFINISHED_JOB_STATES } from './cluster-rows';
import { NodeRef } from './dto/catalog.dto';
import { RebalanceAnswer } from './dto/rebalance.dto';

/** The answer when there is no job to show. */
export function noJob(state: 'none' | 'balanced', description: string): RebalanceAnswer {
  return { jobId: null, state, description, startedAt: null, finishedAt: null, details: null };
}

/** Spreading shards over the workers (after adding one, say) or off one, as a background job. */
@Injectable()
export class RebalanceService {
  constructor(
    private readonly cluster: ClusterRepository,
    private readonly transferMode: TransferModeService,
  ) {}

  async start(): Promise<RebalanceAnswer> {
    if (!(await this.cluster.isCitus())) throw citusRequired('Rebalancing');
    await this.assertIdle();
    const jobId = await this.cluster.startRebalance(await this.transferMode.resolve());
    if (jobId === null) {
      return noJob('balanced', 'No moves available: the shards are already balanced');
    }
    return this.status();
  }

  /**
   * Moves every shard off `node` as a background job, progress as for a rebalance. The node
   * takes no new shards from then on (shouldhaveshards = false), unless the job cannot start.
   */
  async drain(node: NodeRef): Promise<RebalanceAnswer> {
    await this.assertIdle();
    const mode = await this.transferMode.resolve();
    await this.cluster.setShouldHaveShards(node, false);
    let jobId: string | null;
    try {
      jobId = await this.cluster.startDrain(mode);
    } catch (error) {
      await this.cluster.setShouldHaveShards(node, true);
      throw error;
    }
    if (jobId === null) {
      return noJob('balanced', `Nothing to move: node ${node.id} holds no shards`);
    }
    return this.status();
  }

  /** One job at a time: Citus runs a single rebalance (or drain) job per cluster. */
  private async assertIdle(): Promise<void> {
    const current = await this.status();
    if (UNFINISHED_JOB_STATES.includes(current.state)) {
      throw new AppError('REBALANCE_RUNNING', `Rebalance job ${current.jobId} is ${current.state}`);
    }
  }

  async status(): Promise<RebalanceAnswer> {
    if (!(await this.cluster.isCitus())) return noJob('none', 'Not a Citus cluster');
    return (await this.cluster.latestRebalance()) ?? noJob('none', 'No rebalance has run');
  }
}
