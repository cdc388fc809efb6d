import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Injectable } from '@nestjs/common';
import { ShardTransferMode } from '../config/app-config';
import { ClusterSql } from '../database/admin-database';
import { CitusDetector } from '../database/citus';
import {
  ACTIVITY_ON_CITUS,
  ACTIVITY_ON_POSTGRES,
  ASYNC_COMMIT_PROBE,
  PLACEMENTS,
  TENANT_COUNTS,
  TENANT_LOAD,
  TENANT_PLACEMENTS,
  TENANT_TABLE,
} from './cluster.sql';
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
import { requestOf } from '../database/statement-tags';

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

  /**
   * Every primary node and whether the service reaches it: the coordinator by answering this,
   * a worker when the coordinator can run a statement on it (an inactive one is not tried).
   */
  async nodeReach(): Promise<Array<NodeRef & { reachable: boolean }>> {
    const rows = await this.sql.query(
      `SELECT n.nodeid, n.nodename, n.nodeport,
              n.groupid = 0 OR coalesce(w.success, false) AS reachable
         FROM pg_dist_node n
         LEFT JOIN run_command_on_workers('SELECT 1') w
                ON w.nodename = n.nodename AND w.nodeport = n.nodeport
        WHERE n.noderole = 'primary' ORDER BY n.nodeid`,
    );
    return rows.map((row) => ({ ...nodeRef(row), reachable: row.reachable === true }));
  }

  async node(nodeId: number): Promise<NodeRow | undefined> {
    return (await this.nodes()).find((node) => node.id === nodeId);
  }

  /**
   * The node at host:port, comparing addresses as names resolve (here: what the service's
   * resolver says), so `localhost` finds the node added as `127.0.0.1`.
   */
  async nodeAt(host: string, port: number): Promise<NodeRow | undefined> {
    const nodes = (await this.nodes()).filter((node) => node.port === port);
    const exact = nodes.find((node) => node.host === host);
    if (exact) return exact;
    const wanted = await addressesOf(host);
    for (const node of nodes) {
      const theirs = await addressesOf(node.host);
      if (theirs.some((address) => wanted.includes(address))) return node;
    }
    return undefined;
  }

  /** Placements of distributed tables (not reference tables) per node group. */
  async shardCounts(): Promise<Map<number, number>> {
    const rows = await this.sql.query(
      `SELECT p.groupid, count(*)::int AS n
         FROM pg_dist_placement p JOIN pg_dist_shard s USING (shardid)
         JOIN pg_dist_partition t USING (logicalrelid)
        WHERE t.partmethod <> 'n' GROUP BY p.groupid`,
    );
    return new Map(rows.map((row) => [num(row.groupid), num(row.n)]));
  }

  /** Adds a worker (Citus copies the reference tables and metadata to it); its node id. */
  async addNode(host: string, port: number): Promise<number> {
    const [row] = await this.sql.query(`SELECT citus_add_node($1, $2) AS nodeid`, [host, port]);
    return num(row.nodeid);
  }

  async setShouldHaveShards(node: NodeRef, value: boolean): Promise<void> {
    await this.sql.query(`SELECT citus_set_node_property($1, $2, 'shouldhaveshards', $3)`, [
      node.host,
      node.port,
      value,
    ]);
  }

  /**
   * Citus' background form of citus_drain_node: a rebalance job that only moves shards off the
   * nodes marked shouldhaveshards = false. Null when there is nothing to move.
   */
  async startDrain(mode: ShardTransferMode): Promise<string | null> {
    const [row] = await this.sql.query(
      `SELECT citus_rebalance_start(drain_only => true, shard_transfer_mode => $1) AS job_id`,
      [mode],
    );
    return optStr(row.job_id);
  }

  /** Drops shards left behind by finished moves (deferred cleanup), then the node. */
  async removeNode(node: NodeRef): Promise<void> {
    await this.sql.query(`CALL citus_cleanup_orphaned_resources()`);
    await this.sql.query(`SELECT citus_remove_node($1, $2)`, [node.host, node.port]);
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
    const rows = await this.sql.query(PLACEMENTS, [
      filter.table ?? null,
      filter.node ?? null,
      filter.cursor ?? null,
      filter.limit,
    ]);
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
      ? await this.sql.query(ACTIVITY_ON_CITUS)
      : await this.sql.query(ACTIVITY_ON_POSTGRES);
    // A worker's part of a statement reports the global pid of the coordinator backend that sent
    // it: the request is that backend's.
    const requests = new Map<string, string>();
    for (const row of rows) {
      const request = requestOf(optStr(row.application_name));
      const gpid = optStr(row.global_pid);
      if (request && gpid !== null) requests.set(gpid, request);
    }
    return rows.map((row) => ({
      globalPid: optStr(row.global_pid),
      requestId:
        requestOf(optStr(row.application_name)) ??
        requests.get(optStr(row.global_pid) ?? '') ??
        null,
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
    const rows = await this.sql.query(TENANT_COUNTS, [ids]);
    return rows.map((row) => ({
      tenantId: str(row.tenant_id),
      kind: str(row.kind),
      n: num(row.n),
    }));
  }

  /** The shard holding each tenant, whether it holds that tenant alone, and its node. */
  async placementsOf(ids: string[]): Promise<Placement[]> {
    const rows = await this.sql.query(TENANT_PLACEMENTS, [ids]);
    return rows.map((row) => ({
      tenantId: str(row.tenant_id),
      shardId: str(row.shardid),
      isolated: row.isolated === true,
      node: nodeRef(row),
    }));
  }

  /** citus_stat_tenants rows of these tenants, with the tracking setting on every row. */
  async tenantLoad(ids: string[]): Promise<{ setting: string; rows: Row[] }> {
    const rows = await this.sql.query(TENANT_LOAD, [ids]);
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

  /**
   * Where sessions on the nodes commit asynchronously (synchronous_commit = off): this node's
   * value for the admin role (server settings included) and every role/database setting, as
   * `host:port: where` lines. Logical shard transfers can lose acknowledged writes that such
   * sessions commit (docs/citus-logical-move-write-loss.md). A node that does not answer is
   * listed too: nothing can be promised about it.
   */
  async asynchronousCommits(): Promise<string[]> {
    const rows = await this.sql.query(
      `SELECT n.nodename, n.nodeport, r.success, r.result
         FROM run_command_on_all_nodes($probe$${ASYNC_COMMIT_PROBE}$probe$) r
         JOIN pg_dist_node n USING (nodeid)
        WHERE NOT r.success OR r.result <> ''
        ORDER BY n.nodeid`,
    );
    return rows.map((row) => {
      const where = `${str(row.nodename)}:${num(row.nodeport)}`;
      return row.success === true
        ? `${where}: ${str(row.result)}`
        : `${where}: could not be checked (${str(row.result)})`;
    });
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

/** Every address `host` resolves to (itself when it is one), or none when it does not resolve. */
async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    return [];
  }
}
