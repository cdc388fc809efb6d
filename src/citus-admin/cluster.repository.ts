import { Injectable } from '@nestjs/common';
import { ShardTransferMode } from '../config/app-config';
import { ClusterSql } from '../database/admin-database';
import { CitusDetector } from '../database/citus';
import {
  HealthCheck,
  nodeRef,
  NodeRow,
  num,
  optDate,
  optStr,
  Placement,
  RebalanceJob,
  Row,
  str,
  TenantRow,
} from './cluster-rows';
import { ActivityView, NodeRef, ShardView, TableView } from './dto/catalog.dto';

const QUERY_PREVIEW = 500;
/** Tenant-owned tables are colocated with users, so its shard for a tenant is theirs too. */
const TENANT_TABLE = 'users';

/**
 * Every statement the operator views and actions send, and the mapping of their rows. Runs on
 * the admin connection; each list is a fixed number of set-based queries, never one per row.
 */
@Injectable()
export class ClusterRepository {
  constructor(
    private readonly sql: ClusterSql,
    private readonly detector: CitusDetector,
  ) {}

  isCitus(): Promise<boolean> {
    return this.detector.installed();
  }

  /** The one server of a plain PostgreSQL, as a node. */
  async standalone(): Promise<NodeRef> {
    const [row] = await this.sql.query(
      `SELECT 1 AS nodeid, coalesce(host(inet_server_addr()), 'local socket') AS nodename,
              coalesce(inet_server_port(), current_setting('port')::int) AS nodeport`,
    );
    return nodeRef(row);
  }

  async nodes(): Promise<NodeRow[]> {
    const rows = await this.sql.query(
      `SELECT nodeid, groupid, nodename, nodeport, isactive, shouldhaveshards
         FROM pg_dist_node WHERE noderole = 'primary' ORDER BY nodeid`,
    );
    return rows.map((row) => ({
      ...nodeRef(row),
      groupId: num(row.groupid),
      active: row.isactive === true,
      shouldHaveShards: row.shouldhaveshards === true,
    }));
  }

  async healthChecks(): Promise<HealthCheck[]> {
    const rows = await this.sql.query(
      `SELECT to_nodename, to_nodeport, result FROM citus_check_cluster_node_health()`,
    );
    return rows.map((row) => ({
      toHost: str(row.to_nodename),
      toPort: num(row.to_nodeport),
      ok: row.result === true,
    }));
  }

  async localTables(): Promise<TableView[]> {
    const rows = await this.sql.query(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS size
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
    );
    return rows.map((row) => ({
      name: str(row.name),
      type: 'local',
      distributionColumn: null,
      colocationId: null,
      shardCount: 0,
      sizeBytes: num(row.size),
    }));
  }

  async citusTables(): Promise<TableView[]> {
    const rows = await this.sql.query(
      `SELECT table_name::text AS name, citus_table_type AS type, distribution_column,
              colocation_id, shard_count, citus_total_relation_size(table_name) AS size
         FROM citus_tables ORDER BY 1`,
    );
    return rows.map((row) => ({
      name: str(row.name),
      type: str(row.type),
      distributionColumn:
        row.distribution_column === '<none>' ? null : optStr(row.distribution_column),
      colocationId: row.colocation_id === null ? null : num(row.colocation_id),
      shardCount: num(row.shard_count),
      sizeBytes: num(row.size),
    }));
  }

  async distributedTableNames(): Promise<string[]> {
    const rows = await this.sql.query(
      `SELECT logicalrelid::text AS name FROM pg_dist_partition ORDER BY 1`,
    );
    return rows.map((row) => str(row.name));
  }

  /** Placements in placement id order after `cursor`; `limit` rows at most. */
  async placements(filter: {
    table?: string;
    node?: number;
    cursor?: string;
    limit: number;
  }): Promise<ShardView[]> {
    const rows = await this.sql.query(
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
      [filter.table ?? null, filter.node ?? null, filter.cursor ?? null, filter.limit],
    );
    return rows.map((row) => ({
      placementId: str(row.placementid),
      shardId: str(row.shardid),
      table: str(row.table_name),
      minValue: optStr(row.shardminvalue),
      maxValue: optStr(row.shardmaxvalue),
      node: nodeRef(row),
      sizeBytes: row.size === null ? null : num(row.size),
    }));
  }

  /** Non-idle client backends, without the one asking. */
  async activity(citus: boolean): Promise<ActivityView[]> {
    const rows = citus
      ? await this.sql.query(
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
      : await this.sql.query(
          `SELECT NULL AS global_pid, pid, usename, state, wait_event_type, wait_event,
                  query_start, left(query, ${QUERY_PREVIEW}) AS query, false AS is_worker_query,
                  NULL AS nodeid
             FROM pg_stat_activity
            WHERE state IS DISTINCT FROM 'idle' AND backend_type = 'client backend'
              AND pid <> pg_backend_pid()
            ORDER BY query_start NULLS LAST`,
        );
    return rows.map((row) => ({
      globalPid: optStr(row.global_pid),
      node: row.nodeid === null || row.nodeid === undefined ? null : nodeRef(row),
      pid: num(row.pid),
      user: optStr(row.usename),
      state: optStr(row.state),
      waitEventType: optStr(row.wait_event_type),
      waitEvent: optStr(row.wait_event),
      queryStart: optDate(row.query_start),
      query: str(row.query ?? ''),
      workerQuery: row.is_worker_query === true,
    }));
  }

  /** Tenants after `cursor` in id order (`limit` at most), or the one tenant `id`. */
  async tenants(filter: { cursor?: string; limit: number } | { id: string }): Promise<TenantRow[]> {
    const rows =
      'id' in filter
        ? await this.sql.query(`SELECT id, name, created_at FROM tenants WHERE id = $1`, [
            filter.id,
          ])
        : await this.sql.query(
            `SELECT id, name, created_at FROM tenants
              WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2`,
            [filter.cursor ?? null, filter.limit],
          );
    return rows.map((row) => ({
      id: str(row.id),
      name: str(row.name),
      createdAt: row.created_at as Date,
    }));
  }

  /** Users and notes per tenant. */
  async counts(ids: string[]): Promise<Array<{ tenantId: string; kind: string; n: number }>> {
    const rows = await this.sql.query(
      `SELECT tenant_id, 'users' AS kind, count(*) AS n FROM users
        WHERE tenant_id = ANY($1::bigint[]) GROUP BY tenant_id
       UNION ALL
       SELECT tenant_id, 'notes' AS kind, count(*) AS n FROM notes
        WHERE tenant_id = ANY($1::bigint[]) GROUP BY tenant_id`,
      [ids],
    );
    return rows.map((row) => ({
      tenantId: str(row.tenant_id),
      kind: str(row.kind),
      n: num(row.n),
    }));
  }

  /** The shard holding each tenant, whether it holds that tenant alone, and its node. */
  async placementsOf(ids: string[]): Promise<Placement[]> {
    const rows = await this.sql.query(
      `SELECT t.id AS tenant_id, s.shardid, s.shardminvalue = s.shardmaxvalue AS isolated,
              n.nodeid, n.nodename, n.nodeport
         FROM unnest($1::bigint[]) AS t(id)
         JOIN pg_dist_shard s
           ON s.shardid = get_shard_id_for_distribution_column('${TENANT_TABLE}', t.id)
         JOIN pg_dist_placement p ON p.shardid = s.shardid
         JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'`,
      [ids],
    );
    return rows.map((row) => ({
      tenantId: str(row.tenant_id),
      shardId: str(row.shardid),
      isolated: row.isolated === true,
      node: nodeRef(row),
    }));
  }

  /** citus_stat_tenants rows of these tenants, with the tracking setting on every row. */
  async tenantLoad(ids: string[]): Promise<{ setting: string; rows: Row[] }> {
    const rows = await this.sql.query(
      `SELECT current_setting('citus.stat_tenants_track') AS setting, st.*
         FROM (SELECT 1) AS one
         LEFT JOIN citus_stat_tenants st
           ON st.tenant_attribute = ANY($1::text[])
          AND st.colocation_id = (SELECT colocationid FROM pg_dist_partition
                                   WHERE logicalrelid = '${TENANT_TABLE}'::regclass)`,
      [ids],
    );
    return {
      setting: str(rows[0]?.setting ?? 'none'),
      rows: rows.filter((r) => r.tenant_attribute),
    };
  }

  /** An active node that may hold shards, or undefined. */
  async shardHolder(nodeId: number): Promise<NodeRef | undefined> {
    const [row] = await this.sql.query(
      `SELECT nodeid, nodename, nodeport FROM pg_dist_node
        WHERE nodeid = $1 AND isactive AND shouldhaveshards AND noderole = 'primary'`,
      [nodeId],
    );
    return row ? nodeRef(row) : undefined;
  }

  /** Splits the tenant's shard group so that it holds this tenant alone; the new shard id. */
  async isolate(tenantId: string, mode: ShardTransferMode): Promise<string> {
    const [row] = await this.sql.query(
      `SELECT isolate_tenant_to_new_shard('${TENANT_TABLE}', $1::bigint, 'CASCADE',
                                          shard_transfer_mode => $2) AS shard_id`,
      [tenantId, mode],
    );
    return str(row.shard_id);
  }

  async moveShard(shardId: string, from: NodeRef, to: NodeRef, mode: ShardTransferMode) {
    await this.sql.query(
      `SELECT citus_move_shard_placement($1::bigint, $2, $3, $4, $5, shard_transfer_mode => $6)`,
      [shardId, from.host, from.port, to.host, to.port, mode],
    );
  }

  async nodeOfShard(shardId: string): Promise<NodeRef> {
    const [row] = await this.sql.query(
      `SELECT n.nodeid, n.nodename, n.nodeport
         FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid
        WHERE p.shardid = $1 AND n.noderole = 'primary'`,
      [shardId],
    );
    return nodeRef(row);
  }

  /** Starts a background rebalance; null when there is nothing to move. */
  async startRebalance(mode: ShardTransferMode): Promise<string | null> {
    const [row] = await this.sql.query(
      `SELECT citus_rebalance_start(shard_transfer_mode => $1) AS job_id`,
      [mode],
    );
    return optStr(row.job_id);
  }

  async latestRebalance(): Promise<RebalanceJob | undefined> {
    const [job] = await this.sql.query(
      `SELECT job_id, state::text AS state, description, started_at, finished_at, details
         FROM citus_rebalance_status()`,
    );
    if (!job) return undefined;
    return {
      jobId: str(job.job_id),
      state: str(job.state),
      description: optStr(job.description),
      startedAt: optDate(job.started_at),
      finishedAt: optDate(job.finished_at),
      details: (job.details as Record<string, unknown> | null) ?? null,
    };
  }
}
