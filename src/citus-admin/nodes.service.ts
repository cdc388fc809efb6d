import { Injectable } from '@nestjs/common';
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
  ) {}

  /** Adds the worker (idempotent: a node already in the cluster is answered as it is). */
  async add(dto: AddNodeDto): Promise<AddNodeAnswer> {
    await this.requireCitus('Adding a node');
    const existing = await this.cluster.nodeAt(dto.host, dto.port);
    if (existing) return { added: false, node: await this.view(existing.id) };
    let id: number;
    try {
      id = await this.cluster.addNode(dto.host, dto.port);
    } catch (error) {
      throw refused(error, `${dto.host}:${dto.port}`);
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
      throw refused(error, `${node.host}:${node.port}`);
    }
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
function refused(error: unknown, address: string): unknown {
  const state = sqlState(error);
  if (state === undefined) return error;
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return state.startsWith('08')
    ? new AppError('NODE_UNREACHABLE', `The coordinator cannot connect to ${address}: ${detail}`)
    : new AppError('NODE_REJECTED', `Citus refused ${address}: ${detail}`);
}
