import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig, ShardTransferMode } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { citusInstalled } from '../database/citus';
import { AppError } from '../errors/app-error';
import { DEFAULT_PAGE_SIZE, takePage } from '../http/pagination';
import {
  ActivityAnswer,
  IsolateTenantDto,
  IsolationAnswer,
  LoadTracking,
  NodeRef,
  NodesAnswer,
  NodeView,
  RebalanceAnswer,
  RegistrationsAnswer,
  ShardsAnswer,
  ShardsQueryDto,
  TableView,
  TablesAnswer,
  TenantAnswer,
  TenantPlacementView,
  TenantsAnswer,
} from './dto/cluster.dto';

export const ADMIN_CONNECTION = 'admin';

const QUERY_PREVIEW = 500;
// Tenant-owned tables are colocated with users, so its shard for a tenant is theirs too.
const TENANT_TABLE = 'users';

type Row = Record<string, unknown>;

// node-postgres returns bigint and numeric as strings, int as numbers, json as objects.
const str = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean'
      ? String(value)
      : (JSON.stringify(value) ?? '');
const num = (value: unknown): number => Number(value);
const optStr = (value: unknown): string | null =>
  value === null || value === undefined ? null : str(value);
const nodeRef = (row: Row): NodeRef => ({
  id: num(row.nodeid),
  host: str(row.nodename),
  port: num(row.nodeport),
});

function citusRequired(action: string): AppError {
  return new AppError(
    'CITUS_REQUIRED',
    `${action} needs a Citus cluster; this database is a plain PostgreSQL`,
  );
}

/**
 * Read-mostly views of the cluster's metadata and the two growth actions (tenant isolation,
 * rebalance). Every list is built from a fixed number of set-based queries per page, never one
 * query per row. Runs on the admin connection: these statements legitimately span all shards.
 */
@Injectable()
export class CitusAdminService {
  private citus?: boolean;

  private readonly transferMode: ShardTransferMode;

  constructor(
    @InjectDataSource(ADMIN_CONNECTION) private readonly db: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.transferMode = config.shardTransferMode;
  }

  private async rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.db.query<Row[]>(sql, params);
  }

  async isCitus(): Promise<boolean> {
    this.citus ??= await citusInstalled(this.db);
    return this.citus;
  }

  async nodes(): Promise<NodesAnswer> {
    const checkedAt = new Date();
    if (!(await this.isCitus())) {
      const [row] = await this.rows(
        `SELECT coalesce(host(inet_server_addr()), 'local socket') AS nodename,
                coalesce(inet_server_port(), current_setting('port')::int) AS nodeport`,
      );
      return {
        citus: false,
        checkedAt,
        nodes: [
          {
            ...nodeRef({ ...row, nodeid: 1 }),
            role: 'standalone',
            groupId: 0,
            active: true,
            shouldHaveShards: true,
            healthy: true,
            checksPassed: 1,
            checksTotal: 1,
          },
        ],
      };
    }
    const [nodes, checks] = await Promise.all([
      this.rows(
        `SELECT nodeid, groupid, nodename, nodeport, isactive, shouldhaveshards
           FROM pg_dist_node WHERE noderole = 'primary' ORDER BY nodeid`,
      ),
      this.rows(`SELECT to_nodename, to_nodeport, result FROM citus_check_cluster_node_health()`),
    ]);
    return {
      citus: true,
      checkedAt,
      nodes: nodes.map((row): NodeView => {
        const toThis = checks.filter(
          (check) =>
            check.to_nodename === row.nodename && num(check.to_nodeport) === num(row.nodeport),
        );
        const passed = toThis.filter((check) => check.result === true).length;
        return {
          ...nodeRef(row),
          role: num(row.groupid) === 0 ? 'coordinator' : 'worker',
          groupId: num(row.groupid),
          active: row.isactive === true,
          shouldHaveShards: row.shouldhaveshards === true,
          healthy: toThis.length > 0 && passed === toThis.length,
          checksPassed: passed,
          checksTotal: toThis.length,
        };
      }),
    };
  }

  async tables(): Promise<TablesAnswer> {
    if (!(await this.isCitus())) {
      const rows = await this.rows(
        `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS size
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
      );
      return {
        citus: false,
        tables: rows.map((row) => ({
          name: str(row.name),
          type: 'local',
          distributionColumn: null,
          colocationId: null,
          shardCount: 0,
          sizeBytes: num(row.size),
        })),
      };
    }
    const rows = await this.rows(
      `SELECT table_name::text AS name, citus_table_type AS type, distribution_column,
              colocation_id, shard_count, citus_total_relation_size(table_name) AS size
         FROM citus_tables ORDER BY 1`,
    );
    return {
      citus: true,
      tables: rows.map((row): TableView => ({
        name: str(row.name),
        type: str(row.type),
        distributionColumn:
          row.distribution_column === '<none>' ? null : optStr(row.distribution_column),
        colocationId: row.colocation_id === null ? null : num(row.colocation_id),
        shardCount: num(row.shard_count),
        sizeBytes: num(row.size),
      })),
    };
  }

  async shards(query: ShardsQueryDto): Promise<ShardsAnswer> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    if (!(await this.isCitus())) return { citus: false, items: [], nextCursor: null };
    if (query.table) {
      const known = await this.rows(
        `SELECT logicalrelid::text AS name FROM pg_dist_partition ORDER BY 1`,
      );
      const names = known.map((row) => str(row.name));
      if (!names.includes(query.table)) {
        throw new AppError('VALIDATION_FAILED', `table must be one of: ${names.join(', ')}`, {
          errors: [`table must be one of: ${names.join(', ')}`],
        });
      }
    }
    const rows = await this.rows(
      `SELECT p.placementid, s.shardid, s.logicalrelid::text AS table_name,
              s.shardminvalue, s.shardmaxvalue, n.nodeid, n.nodename, n.nodeport, sz.size
         FROM pg_dist_shard s
         JOIN pg_dist_placement p ON p.shardid = s.shardid
         JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
         LEFT JOIN (SELECT shard_id, max(size) AS size FROM citus_shard_sizes() GROUP BY shard_id) sz
                ON sz.shard_id = s.shardid
        WHERE ($1::text IS NULL OR s.logicalrelid = to_regclass($1))
          AND ($2::int IS NULL OR n.nodeid = $2)
          AND ($3::bigint IS NULL OR p.placementid > $3)
        ORDER BY p.placementid
        LIMIT $4`,
      [query.table ?? null, query.node ?? null, query.cursor ?? null, limit + 1],
    );
    const page = takePage(rows, limit, (row) => str(row.placementid));
    return {
      citus: true,
      items: page.rows.map((row) => ({
        placementId: str(row.placementid),
        shardId: str(row.shardid),
        table: str(row.table_name),
        minValue: optStr(row.shardminvalue),
        maxValue: optStr(row.shardmaxvalue),
        node: nodeRef(row),
        sizeBytes: row.size === null ? null : num(row.size),
      })),
      nextCursor: page.nextCursor,
    };
  }

  async activity(): Promise<ActivityAnswer> {
    const citus = await this.isCitus();
    const rows = citus
      ? await this.rows(
          `SELECT a.global_pid, a.pid, a.usename, a.state, a.wait_event_type, a.wait_event,
                  a.query_start, left(a.query, ${QUERY_PREVIEW}) AS query, a.is_worker_query,
                  n.nodeid, n.nodename, n.nodeport
             FROM citus_stat_activity a
             LEFT JOIN pg_dist_node n ON n.nodeid = a.nodeid
            WHERE a.state IS DISTINCT FROM 'idle'
              AND a.backend_type = 'client backend'
              AND a.global_pid IS DISTINCT FROM citus_backend_gpid()
            ORDER BY a.query_start NULLS LAST`,
        )
      : await this.rows(
          `SELECT NULL AS global_pid, pid, usename, state, wait_event_type, wait_event,
                  query_start, left(query, ${QUERY_PREVIEW}) AS query, false AS is_worker_query,
                  NULL AS nodeid
             FROM pg_stat_activity
            WHERE state IS DISTINCT FROM 'idle' AND backend_type = 'client backend'
              AND pid <> pg_backend_pid()
            ORDER BY query_start NULLS LAST`,
        );
    return {
      citus,
      activity: rows.map((row) => ({
        globalPid: optStr(row.global_pid),
        node: row.nodeid === null || row.nodeid === undefined ? null : nodeRef(row),
        pid: num(row.pid),
        user: optStr(row.usename),
        state: optStr(row.state),
        waitEventType: optStr(row.wait_event_type),
        waitEvent: optStr(row.wait_event),
        queryStart: (row.query_start as Date | null) ?? null,
        query: str(row.query ?? ''),
        workerQuery: row.is_worker_query === true,
      })),
    };
  }

  async tenants(limit: number, cursor?: string): Promise<TenantsAnswer> {
    const rows = await this.rows(
      `SELECT id, name, created_at FROM tenants
        WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [cursor ?? null, limit + 1],
    );
    const page = takePage(rows, limit, (row) => str(row.id));
    const { citus, loadTracking, items } = await this.describeTenants(page.rows);
    return { citus, loadTracking, items, nextCursor: page.nextCursor };
  }

  async tenant(id: string): Promise<TenantAnswer> {
    const rows = await this.rows(`SELECT id, name, created_at FROM tenants WHERE id = $1`, [id]);
    if (rows.length === 0) throw new AppError('TENANT_NOT_FOUND', `Tenant ${id} not found`);
    const { citus, loadTracking, items } = await this.describeTenants(rows);
    return { citus, loadTracking, tenant: items[0] };
  }

  /** Placement, counts and load for a page of tenants: four queries whatever the page size. */
  private async describeTenants(
    tenants: Row[],
  ): Promise<{ citus: boolean; loadTracking: LoadTracking; items: TenantPlacementView[] }> {
    const citus = await this.isCitus();
    const ids = tenants.map((row) => str(row.id));
    const [counts, placements, load] = await Promise.all([
      this.rows(
        `SELECT tenant_id, 'users' AS kind, count(*) AS n FROM users
          WHERE tenant_id = ANY($1::bigint[]) GROUP BY tenant_id
         UNION ALL
         SELECT tenant_id, 'notes' AS kind, count(*) AS n FROM notes
          WHERE tenant_id = ANY($1::bigint[]) GROUP BY tenant_id`,
        [ids],
      ),
      citus
        ? this.rows(
            `SELECT t.id AS tenant_id, s.shardid, s.shardminvalue = s.shardmaxvalue AS isolated,
                    n.nodeid, n.nodename, n.nodeport
               FROM unnest($1::bigint[]) AS t(id)
               JOIN pg_dist_shard s
                 ON s.shardid = get_shard_id_for_distribution_column('${TENANT_TABLE}', t.id)
               JOIN pg_dist_placement p ON p.shardid = s.shardid
               JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'`,
            [ids],
          )
        : Promise.resolve([] as Row[]),
      citus
        ? this.rows(
            `SELECT current_setting('citus.stat_tenants_track') AS setting, st.*
               FROM (SELECT 1) AS one
               LEFT JOIN citus_stat_tenants st
                 ON st.tenant_attribute = ANY($1::text[])
                AND st.colocation_id = (SELECT colocationid FROM pg_dist_partition
                                         WHERE logicalrelid = '${TENANT_TABLE}'::regclass)`,
            [ids],
          )
        : Promise.resolve([{ setting: 'unavailable' }] as Row[]),
    ]);

    const setting = str(load[0]?.setting ?? 'none');
    const countOf = (tenantId: string, kind: string): number =>
      num(counts.find((row) => str(row.tenant_id) === tenantId && row.kind === kind)?.n ?? 0);
    return {
      citus,
      loadTracking: { enabled: citus && setting !== 'none', setting },
      items: tenants.map((tenant) => {
        const id = str(tenant.id);
        const placement = placements.find((row) => str(row.tenant_id) === id);
        const stats = load.find((row) => row.tenant_attribute === id);
        return {
          id,
          name: str(tenant.name),
          createdAt: tenant.created_at as Date,
          shardId: placement ? str(placement.shardid) : null,
          isolated: placement?.isolated === true,
          node: placement ? nodeRef(placement) : null,
          users: countOf(id, 'users'),
          notes: countOf(id, 'notes'),
          load: stats
            ? {
                queriesThisPeriod: num(stats.query_count_in_this_period),
                queriesLastPeriod: num(stats.query_count_in_last_period),
                readsThisPeriod: num(stats.read_count_in_this_period),
                readsLastPeriod: num(stats.read_count_in_last_period),
                cpuThisPeriod: num(stats.cpu_usage_in_this_period),
                cpuLastPeriod: num(stats.cpu_usage_in_last_period),
              }
            : null,
        };
      }),
    };
  }

  async registrations(limit: number): Promise<RegistrationsAnswer> {
    const rows = await this.rows(
      `SELECT u.tenant_id, t.name AS tenant_name, u.id AS user_id, u.username, u.email, u.role,
              u.created_at
         FROM users u JOIN tenants t ON t.id = u.tenant_id
        ORDER BY u.created_at DESC, u.tenant_id DESC, u.id DESC
        LIMIT $1`,
      [limit],
    );
    return {
      items: rows.map((row) => ({
        tenantId: str(row.tenant_id),
        tenantName: str(row.tenant_name),
        userId: str(row.user_id),
        username: str(row.username),
        email: str(row.email),
        role: str(row.role),
        createdAt: row.created_at as Date,
      })),
    };
  }

  /**
   * Splits the tenant's shard so that it holds this tenant alone, in every colocated table
   * (CASCADE), then optionally moves the new shard group to another worker, with the configured
   * shard transfer mode (CITUS_SHARD_TRANSFER_MODE; block_writes unless told otherwise).
   */
  async isolate(id: string, dto: IsolateTenantDto): Promise<IsolationAnswer> {
    if (!(await this.isCitus())) throw citusRequired('Tenant isolation');
    const { tenant } = await this.tenant(id);
    if (!tenant.shardId || !tenant.node) throw citusRequired('Tenant isolation');
    if (tenant.isolated) {
      throw new AppError(
        'ALREADY_ISOLATED',
        `Tenant ${id} already has shard ${tenant.shardId} to itself on node ${tenant.node.id}`,
      );
    }
    let target: NodeRef | undefined;
    if (dto.targetNodeId !== undefined) {
      const [node] = await this.rows(
        `SELECT nodeid, nodename, nodeport FROM pg_dist_node
          WHERE nodeid = $1 AND isactive AND shouldhaveshards AND noderole = 'primary'`,
        [dto.targetNodeId],
      );
      if (!node) {
        throw new AppError(
          'VALIDATION_FAILED',
          'targetNodeId must be an active node that may hold shards (see citus/nodes)',
          { errors: ['targetNodeId must be an active node that may hold shards'] },
        );
      }
      target = nodeRef(node);
    }

    let mode = this.transferMode;
    let isolated: Row;
    try {
      [isolated] = await this.rows(
        `SELECT isolate_tenant_to_new_shard('${TENANT_TABLE}', $1::bigint, 'CASCADE',
                                            shard_transfer_mode => $2) AS shard_id`,
        [id, mode],
      );
    } catch (error) {
      // A server that does not allow Citus' decoding plugin (PostgreSQL 15.19+ without
      // output_plugin_libraries set) can still split by briefly blocking the tenant's writes.
      if (mode === 'block_writes' || !/may not be used as an output plugin/.test(String(error))) {
        throw error;
      }
      mode = 'block_writes';
      [isolated] = await this.rows(
        `SELECT isolate_tenant_to_new_shard('${TENANT_TABLE}', $1::bigint, 'CASCADE',
                                            shard_transfer_mode => 'block_writes') AS shard_id`,
        [id],
      );
    }
    const shardId = str(isolated.shard_id);
    let moved = false;
    if (target && target.id !== tenant.node.id) {
      await this.rows(
        `SELECT citus_move_shard_placement($1::bigint, $2, $3, $4, $5, shard_transfer_mode => $6)`,
        [shardId, tenant.node.host, tenant.node.port, target.host, target.port, mode],
      );
      moved = true;
    }
    const [placement] = await this.rows(
      `SELECT n.nodeid, n.nodename, n.nodeport
         FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid
        WHERE p.shardid = $1 AND n.noderole = 'primary'`,
      [shardId],
    );
    return {
      tenantId: id,
      shardId,
      node: nodeRef(placement),
      previousShardId: tenant.shardId,
      previousNode: tenant.node,
      moved,
      transferMode: mode,
    };
  }

  async startRebalance(): Promise<RebalanceAnswer> {
    if (!(await this.isCitus())) throw citusRequired('Rebalancing');
    const current = await this.rebalanceStatus();
    if (current.state === 'running' || current.state === 'scheduled') {
      throw new AppError('REBALANCE_RUNNING', `Rebalance job ${current.jobId} is ${current.state}`);
    }
    const [started] = await this.rows(
      `SELECT citus_rebalance_start(shard_transfer_mode => $1) AS job_id`,
      [this.transferMode],
    );
    if (started.job_id === null) {
      return {
        jobId: null,
        state: 'balanced',
        description: 'No moves available: the shards are already balanced',
        startedAt: null,
        finishedAt: null,
        details: null,
      };
    }
    return this.rebalanceStatus();
  }

  async rebalanceStatus(): Promise<RebalanceAnswer> {
    if (!(await this.isCitus())) {
      return {
        jobId: null,
        state: 'none',
        description: 'Not a Citus cluster',
        startedAt: null,
        finishedAt: null,
        details: null,
      };
    }
    const [job] = await this.rows(
      `SELECT job_id, state::text AS state, description, started_at, finished_at, details
         FROM citus_rebalance_status()`,
    );
    if (!job) {
      return {
        jobId: null,
        state: 'none',
        description: 'No rebalance has run',
        startedAt: null,
        finishedAt: null,
        details: null,
      };
    }
    return {
      jobId: str(job.job_id),
      state: str(job.state),
      description: optStr(job.description),
      startedAt: (job.started_at as Date | null) ?? null,
      finishedAt: (job.finished_at as Date | null) ?? null,
      details: (job.details as Record<string, unknown> | null) ?? null,
    };
  }
}
