import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../errors/app-error';
import { citusRequired } from './citus-required';
import { ClusterRepository } from './cluster.repository';
import { RebalanceAnswer } from './dto/rebalance.dto';

/** Citus background job states that are not over yet. */
const UNFINISHED = ['scheduled', 'running', 'cancelling', 'failing'];

/** The answer when there is no job to show. */
function noJob(state: 'none' | 'balanced', description: string): RebalanceAnswer {
  return { jobId: null, state, description, startedAt: null, finishedAt: null, details: null };
}

/** Spreading shards over the workers (after adding one, say), as a background job. */
@Injectable()
export class RebalanceService {
  constructor(
    private readonly cluster: ClusterRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(): Promise<RebalanceAnswer> {
    if (!(await this.cluster.isCitus())) throw citusRequired('Rebalancing');
    const current = await this.status();
    if (UNFINISHED.includes(current.state)) {
      throw new AppError('REBALANCE_RUNNING', `Rebalance job ${current.jobId} is ${current.state}`);
    }
    const jobId = await this.cluster.startRebalance(this.config.shardTransferMode);
    if (jobId === null) {
      return noJob('balanced', 'No moves available: the shards are already balanced');
    }
    return this.status();
  }

  async status(): Promise<RebalanceAnswer> {
    if (!(await this.cluster.isCitus())) return noJob('none', 'Not a Citus cluster');
    return (await this.cluster.latestRebalance()) ?? noJob('none', 'No rebalance has run');
  }
}
