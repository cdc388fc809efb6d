import { Injectable } from '@nestjs/common';
import { AppError } from '../errors/app-error';
import { DEFAULT_PAGE_SIZE, takePage } from '../http/pagination';
import { ClusterRepository } from './cluster.repository';
import { UNFINISHED_JOB_STATES } from './cluster-rows';
import {
  ActivityAnswer,
  NodesAnswer,
  NodeView,
  ShardsAnswer,
  ShardsQueryDto,
  TablesAnswer,
} from './dto/catalog.dto';

/** What the cluster is made of: nodes, tables, shard placements, live activity. */
@Injectable()
export class CatalogService {
  constructor(private readonly cluster: ClusterRepository) {}

  async nodes(): Promise<NodesAnswer> {
    const checkedAt = new Date();
    if (!(await this.cluster.isCitus())) {
      const node: NodeView = {
        ...(await this.cluster.standalone()),
        role: 'standalone',
        groupId: 0,
        active: true,
        shouldHaveShards: true,
        healthy: true,
        checksPassed: 1,
        checksTotal: 1,
        shardCount: 0,
        draining: false,
      };
      return { citus: false, checkedAt, nodes: [node] };
    }
    const [nodes, checks, shardCounts, job] = await Promise.all([
      this.cluster.nodes(),
      this.cluster.healthChecks(),
      this.cluster.shardCounts(),
      this.cluster.latestRebalance(),
    ]);
    const jobRunning = job !== undefined && UNFINISHED_JOB_STATES.includes(job.state);
    return {
      citus: true,
      checkedAt,
      nodes: nodes.map((node): NodeView => {
        const toThis = checks.filter((c) => c.toHost === node.host && c.toPort === node.port);
        const passed = toThis.filter((check) => check.ok).length;
        const shardCount = shardCounts.get(node.groupId) ?? 0;
        return {
          ...node,
          role: node.groupId === 0 ? 'coordinator' : 'worker',
          healthy: toThis.length > 0 && passed === toThis.length,
          checksPassed: passed,
          checksTotal: toThis.length,
          shardCount,
          draining: jobRunning && !node.shouldHaveShards && shardCount > 0,
        };
      }),
    };
  }

  async tables(): Promise<TablesAnswer> {
    return (await this.cluster.isCitus())
      ? { citus: true, tables: await this.cluster.citusTables() }
      : { citus: false, tables: await this.cluster.localTables() };
  }

  async shards(query: ShardsQueryDto): Promise<ShardsAnswer> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    if (!(await this.cluster.isCitus())) return { citus: false, items: [], nextCursor: null };
    if (query.table) {
      const names = await this.cluster.distributedTableNames();
      if (!names.includes(query.table)) {
        const message = `table must be one of: ${names.join(', ')}`;
        throw new AppError('VALIDATION_FAILED', message, { errors: [message] });
      }
    }
    const rows = await this.cluster.placements({ ...query, limit: limit + 1 });
    const page = takePage(rows, limit, (row) => row.placementId);
    return { citus: true, items: page.rows, nextCursor: page.nextCursor };
  }

  async activity(): Promise<ActivityAnswer> {
    const citus = await this.cluster.isCitus();
    return { citus, activity: await this.cluster.activity(citus) };
  }
}
