import { Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { LOGGER } from '../logging/logging.module';
import { sqlState } from '../database/pg-errors';
import { AppError } from '../errors/app-error';
import { CatalogService } from './catalog.service';
import { citusRequired } from './citus-required';
import { ClusterRepository } from './cluster.repository';
import { NodeRow } from './cluster-rows';
import { NodeView } from './dto/catalog.dto';
import { AddNodeAnswer, AddNodeDto } from './dto/nodes.dto';
import { RebalanceAnswer } from './dto/rebalance.dto';
import { RebalanceService } from './rebalance.service';

/** Growing and shrinking the cluster: add a worker, drain one, remove an empty one. */
@Injectable()
export class NodesService {
  constructor(
    private readonly cluster: ClusterRepository,
    private readonly catalog: CatalogService,
    private readonly rebalance: RebalanceService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Adds the worker (idempotent: a node already in the cluster is answered as it is). */
  async add(dto: AddNodeDto): Promise<AddNodeAnswer> {
    await this.requireCitus('Adding a node');
    const allowed = this.config.citusWorkerHosts;
    if (allowed.length > 0 && !allowed.includes(dto.host.toLowerCase())) {
      throw new AppError('VALIDATION_FAILED', 'host is not one of CITUS_WORKER_HOSTS', {
        errors: [`host must be one of: ${allowed.join(', ')}`],
      });
    }
    const existing = await this.cluster.nodeAt(dto.host, dto.port);
    if (existing) return { added: false, node: await this.view(existing.id) };
    let id: number;
    try {
      id = await this.cluster.addNode(dto.host, dto.port);
    } catch (error) {
      throw this.refused(error, `${dto.host}:${dto.port}`);
    }
    return { added: true, node: await this.view(id) };
  }

  async drain(nodeId: number): Promise<RebalanceAnswer> {
    await this.requireCitus('Draining a node');
    const node = await this.worker(nodeId);
    const others = (await this.cluster.nodes()).filter(
      (n) => n.id !== node.id && n.groupId !== 0 && n.active && n.shouldHaveShards,
    );
    if (others.length === 0) {
      throw new AppError(
        'NO_TARGET_NODE',
        `Node ${nodeId} is the only worker that takes shards: add another before draining it`,
      );
    }
    return this.rebalance.drain(node);
  }

  /** Removes a worker that holds no shards (drain it first). */
  async remove(nodeId: number): Promise<void> {
    await this.requireCitus('Removing a node');
    const node = await this.worker(nodeId);
    await this.assertEmpty(node);
    try {
      await this.cluster.removeNode(node);
    } catch (error) {
      // A rebalance may have placed shards on it since the check.
      await this.assertEmpty(node);
      throw this.refused(error, `${node.host}:${node.port}`);
    }
  }

  private refused(error: unknown, address: string): unknown {
    const answer = refusal(error, address);
    if (!answer) return error;
    this.logger.warn(
      { address, detail: error instanceof Error ? error.message : String(error) },
      `${answer.code}: ${address}`,
    );
    return answer;
  }

  private async assertEmpty(node: NodeRow): Promise<void> {
    const shardCount = (await this.cluster.shardCounts()).get(node.groupId) ?? 0;
    if (shardCount > 0) {
      throw new AppError(
        'NODE_NOT_EMPTY',
        `Node ${node.id} still holds ${shardCount} shard placement(s): drain it first`,
        { shardCount },
      );
    }
  }

  private async requireCitus(action: string): Promise<void> {
    if (!(await this.cluster.isCitus())) throw citusRequired(action);
  }

  /**
   * What a change to a node can be refused for before it starts (CITUS_REQUIRED, NODE_NOT_FOUND,
   * NOT_A_WORKER): said at once, whatever other operator action is starting.
   */
  async check(nodeId: number, action: string): Promise<void> {
    await this.requireCitus(action);
    await this.worker(nodeId);
  }

  private async worker(nodeId: number): Promise<NodeRow> {
    const node = await this.cluster.node(nodeId);
    if (!node) throw new AppError('NODE_NOT_FOUND', `No node with id ${nodeId}`);
    if (node.groupId === 0) {
      throw new AppError('NOT_A_WORKER', `Node ${nodeId} is the coordinator, not a worker`);
    }
    return node;
  }

  private async view(nodeId: number): Promise<NodeView> {
    const view = (await this.catalog.nodes()).nodes.find((node) => node.id === nodeId);
    if (!view) throw new AppError('NODE_NOT_FOUND', `No node with id ${nodeId}`);
    return view;
  }
}

/**
 * What Citus said when it would not take or give up a node, for the operator: unreachable
 * (connection exception, SQLSTATE class 08) or refused for another reason it names. Errors
 * that are not the server's answer (the coordinator itself is down) go on as they are.
 */
/**
 * Citus' error for a node, said without its detail: what answered at an address (a refused
 * connection, a DNS failure, the first bytes of some other server's banner) is logged for the
 * operators who run the service, not echoed to whoever calls the API, which would make adding
 * a node a port scanner.
 */
function refusal(error: unknown, address: string): AppError | undefined {
  const state = sqlState(error);
  if (state === undefined) return undefined;
  return state.startsWith('08')
    ? new AppError('NODE_UNREACHABLE', `The coordinator cannot connect to ${address}`)
    : new AppError(
        'NODE_REJECTED',
        `Citus refused ${address} as a worker; the service log says why`,
      );
}
