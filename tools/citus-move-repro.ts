/**
 * Issue 11, outside the service: acknowledged single-shard INSERTs that a logical shard transfer
 * (citus_move_shard_placement / isolate_tenant_to_new_shard / citus_rebalance_start in
 * force_logical or auto mode) leaves behind in the source placement, when the source worker
 * commits asynchronously. docs/citus-logical-move-write-loss.md is the report built on it.
 *
 * Each run: writers insert through the coordinator with the service's own statement
 * (bench/statements.ts NOTE_SQL.insert: a named prepared INSERT ... RETURNING on a pg pool, the way
 * POST /notes sends it); the shard group of their tenants is moved / split / rebalanced; then every
 * acknowledged id is looked up through the coordinator, and each missing one is searched in the
 * placements waiting for deferred cleanup (pg_dist_cleanup), with its commit time
 * (track_commit_timestamp) and commit record LSN (pg_walinspect) on the source, against the
 * operation's phases (citus.log_remote_commands notices, timed here).
 *
 *   npx ts-node --transpile-only tools/citus-move-repro.ts [options]
 *
 * The defaults lose writes in about a third of the runs; each option changes one factor.
 * Settings are applied with ALTER SYSTEM on every node, also with --url.
 *
 * Options (--name=value):
 *   --url=postgresql://...        a coordinator to use (superuser; workers from pg_dist_node).
 *                                 Default: a throwaway coordinator + 2 workers (tools/db/local-cluster.ts)
 *   --cluster=fast|durable        throwaway cluster: fast = the e2e harness's (fsync and
 *                                 full_page_writes off; default); durable = PostgreSQL's defaults
 *   --runs=5                      operations per invocation
 *   --op=move|isolate|isolate-move|rebalance|probe
 *                                 probe: PostgreSQL alone, is pg_current_wal_lsn() behind the insert
 *                                 position right after an acknowledged commit?
 *   --mode=force_logical|auto|block_writes
 *   --synchronous-commit=off      on every node (the trigger: `on` loses nothing)
 *   --wal-writer-delay=10s        on every node: how long asynchronous commits may stay unwritten
 *                                 (PostgreSQL's default 200ms loses writes too, rarely)
 *   --flusher-ms=1000             every N ms, one synchronous commit on the source worker (a local
 *                                 table there), as any session with synchronous_commit on does: it
 *                                 flushes all WAL so far; between two, asynchronous commits pile up
 *                                 unwritten behind a write position the subscription has reached
 *   --writers=1 --pool=5          writer loops and the size of their connection pool
 *   --pause-ms=40                 pause after each insert
 *   --reads                       each writer also reads a note by id after each insert
 *   --bystanders=0                more writers, one per other shard group on the source worker
 *   --statement=app|plain         app: the service's INSERT ... RETURNING (ids from the sequence);
 *                                 plain: INSERT of a client-made id, no RETURNING
 *   --unnamed                     unnamed statements instead of named prepared ones
 *   --tx                          BEGIN; INSERT; COMMIT on a checked-out connection instead of autocommit
 *   --no-guard                    without the app's `-c citus.multi_task_query_log_level=error`
 *   --schema=app|bare             app: tenants (reference) + users + notes with the service's keys;
 *                                 bare: one distributed notes table (needs a fresh database)
 *   --catchup-target=write|insert insert: on every worker, shadow pg_current_wal_lsn() (the catch-up
 *                                 target Citus reads on the source) with pg_current_wal_insert_lsn()
 *                                 for this database's superuser sessions, to test the fix without
 *                                 rebuilding Citus (experiment only; `write` removes the shim)
 *   --before-ms=1500 --after-ms=500   writing before the operation starts / after it returns
 *   --out=file.jsonl              append one JSON line per run (default .db/move-repro.jsonl)
 *   --keep                        leave the throwaway cluster running (its URL is printed)
 *   --verbose                     print the operation's remote commands with their times
 *   --trace                       sample the source's WAL write / insert / flush positions and the
 *                                 subscriptions' latest_end_lsn every few ms during the operation
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Client, Pool, PoolClient } from 'pg';
import { NOTE_SQL } from '../bench/statements';
import { freePort } from '../test/harness/test-database';
import { startLocalCluster, stopLocalCluster } from './db/local-cluster';

type Op = 'move' | 'isolate' | 'isolate-move' | 'rebalance' | 'probe';
type Mode = 'force_logical' | 'auto' | 'block_writes';

interface Options {
  url?: string;
  cluster: 'fast' | 'durable';
  runs: number;
  op: Op;
  mode: Mode;
  writers: number;
  bystanders: number;
  flusherMs: number;
  pool: number;
  reads: boolean;
  pauseMs: number;
  statement: 'app' | 'plain';
  named: boolean;
  tx: boolean;
  guard: boolean;
  schema: 'app' | 'bare';
  synchronousCommit?: string;
  walWriterDelay?: string;
  catchupTarget: 'write' | 'insert';
  beforeMs: number;
  afterMs: number;
  out: string;
  keep: boolean;
  verbose: boolean;
  trace: boolean;
}

const ROOT = resolve(__dirname, '..');

function parseOptions(argv: string[]): Options {
  const raw = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}`);
    raw.set(match[1], match[2] ?? 'true');
  }
  const pick = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = raw.get(name) ?? fallback;
    if (!allowed.includes(value as T)) throw new Error(`--${name} must be ${allowed.join('|')}`);
    return value as T;
  };
  const int = (name: string, fallback: number): number => {
    const value = Number(raw.get(name) ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be an integer`);
    return value;
  };
  const known = new Set([
    'url',
    'cluster',
    'runs',
    'op',
    'mode',
    'writers',
    'bystanders',
    'flusher-ms',
    'pool',
    'reads',
    'pause-ms',
    'statement',
    'unnamed',
    'tx',
    'no-guard',
    'schema',
    'synchronous-commit',
    'wal-writer-delay',
    'catchup-target',
    'before-ms',
    'after-ms',
    'out',
    'keep',
    'verbose',
    'trace',
  ]);
  for (const name of raw.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);
  return {
    url: raw.get('url') ?? process.env.CITUS_REPRO_URL,
    cluster: pick('cluster', ['fast', 'durable'], 'fast'),
    runs: int('runs', 5),
    op: pick('op', ['move', 'isolate', 'isolate-move', 'rebalance', 'probe'], 'move'),
    mode: pick('mode', ['force_logical', 'auto', 'block_writes'], 'force_logical'),
    writers: Math.max(1, int('writers', 1)),
    bystanders: int('bystanders', 0),
    flusherMs: int('flusher-ms', 1000),
    pool: Math.max(1, int('pool', 5)),
    reads: raw.has('reads'),
    pauseMs: int('pause-ms', 40),
    statement: pick('statement', ['app', 'plain'], 'app'),
    named: !raw.has('unnamed'),
    tx: raw.has('tx'),
    guard: !raw.has('no-guard'),
    schema: pick('schema', ['app', 'bare'], 'app'),
    synchronousCommit: raw.get('synchronous-commit') ?? 'off',
    walWriterDelay: raw.get('wal-writer-delay') ?? '10s',
    catchupTarget: pick('catchup-target', ['write', 'insert'], 'write'),
    beforeMs: int('before-ms', 1500),
    afterMs: int('after-ms', 500),
    out: resolve(raw.get('out') ?? join(ROOT, '.db', 'move-repro.jsonl')),
    keep: raw.has('keep'),
    verbose: raw.has('verbose'),
    trace: raw.has('trace'),
  };
}

const log = (message: string): void => {
  process.stdout.write(`[repro] ${message}\n`);
};
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export interface Node {
  groupId: number;
  host: string;
  port: number;
  url: string;
}

function nodeUrl(coordinatorUrl: string, host: string, port: number): string {
  const url = new URL(coordinatorUrl);
  url.hostname = host;
  url.port = String(port);
  url.search = '';
  return url.toString();
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function workers(admin: Client, coordinatorUrl: string): Promise<Node[]> {
  const { rows } = await admin.query<{
    groupid: number;
    nodename: string;
    nodeport: number;
  }>(
    `SELECT groupid, nodename, nodeport FROM pg_dist_node
      WHERE noderole = 'primary' AND isactive AND shouldhaveshards AND groupid <> 0
      ORDER BY groupid`,
  );
  if (rows.length < 2) throw new Error('the repro needs a coordinator with two or more workers');
  return rows.map((r) => ({
    groupId: r.groupid,
    host: r.nodename,
    port: r.nodeport,
    url: nodeUrl(coordinatorUrl, r.nodename, r.nodeport),
  }));
}

/** A throwaway coordinator + 2 workers with commit timestamps on (needs one restart). */
async function throwawayCluster(options: Options): Promise<{ url: string; stop: () => void }> {
  const dir = join(ROOT, '.db', `move-repro-${process.pid}`);
  const ports = [await freePort(), await freePort(), await freePort()];
  const spec = {
    dir,
    basePort: ports[0],
    ports,
    database: 'repro',
    citus: 'on' as const,
    workers: 2,
    fast: options.cluster === 'fast',
    log,
  };
  const state = await startLocalCluster(spec);
  for (const node of state.nodes) {
    await withClient(nodeUrl(state.url, '127.0.0.1', node.port), async (c) => {
      await c.query(`ALTER SYSTEM SET track_commit_timestamp = on`);
      // Keep the source placements of finished transfers until this script has searched them.
      await c.query(`ALTER SYSTEM SET citus.defer_shard_delete_interval = -1`);
    });
  }
  stopLocalCluster(dir, { destroy: false, log });
  await startLocalCluster(spec);
  return {
    url: state.url,
    stop: () => {
      if (options.keep) log(`--keep: leaving ${state.url} running (data in ${state.dir})`);
      else stopLocalCluster(dir, { destroy: true, log });
    },
  };
}

export interface NodeSettings {
  synchronousCommit?: string;
  walWriterDelay?: string;
  catchupTarget: 'write' | 'insert';
}

/** Settings on every node (ALTER SYSTEM, reload) and the catch-up-target shim on the workers. */
export async function applyNodeSettings(
  url: string,
  nodes: Node[],
  options: NodeSettings,
): Promise<void> {
  for (const nodeUrlText of [url, ...nodes.map((n) => n.url)]) {
    await withClient(nodeUrlText, async (c) => {
      if (options.synchronousCommit) {
        await c.query(`ALTER SYSTEM SET synchronous_commit = '${options.synchronousCommit}'`);
      }
      if (options.walWriterDelay) {
        await c.query(`ALTER SYSTEM SET wal_writer_delay = '${options.walWriterDelay}'`);
      }
      await c.query('SELECT pg_reload_conf()');
    });
  }
  for (const node of nodes) {
    await withClient(node.url, async (c) => {
      // Local objects on each worker only: Citus must not propagate them.
      await c.query(`SET citus.enable_ddl_propagation = off`);
      const role = `"${(await c.query<{ u: string }>('SELECT current_user AS u')).rows[0].u}"`;
      const db = `"${(await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d}"`;
      if (options.catchupTarget === 'insert') {
        await c.query(`CREATE SCHEMA IF NOT EXISTS repro_shim`);
        await c.query(
          `CREATE OR REPLACE FUNCTION repro_shim.pg_current_wal_lsn() RETURNS pg_lsn
             LANGUAGE sql VOLATILE AS 'SELECT pg_catalog.pg_current_wal_insert_lsn()'`,
        );
        // pg_catalog named after the shim, so the unqualified name Citus sends finds the shim.
        await c.query(
          `ALTER ROLE ${role} IN DATABASE ${db} SET search_path = repro_shim, pg_catalog, "$user", public`,
        );
      } else {
        await c.query(`ALTER ROLE ${role} IN DATABASE ${db} RESET search_path`);
        await c.query(`DROP SCHEMA IF EXISTS repro_shim CASCADE`);
      }
    });
  }
}

async function prepareCluster(url: string, options: Options, nodes: Node[]): Promise<void> {
  await applyNodeSettings(url, nodes, options);
  await withClient(url, async (c) => {
    // Created on the coordinator, Citus creates it on every worker too.
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    const tables = options.schema === 'app' ? ['tenants', 'users', 'notes'] : ['notes'];
    const { rows } = await c.query<{ t: string }>(
      `SELECT relname AS t FROM pg_class WHERE relname = ANY($1) AND relkind = 'r'
         AND relnamespace = 'public'::regnamespace`,
      [tables],
    );
    if (rows.length === tables.length) return;
    if (rows.length > 0)
      throw new Error(`some of ${tables.join(', ')} exist: use a fresh database`);
    await c.query(`SET citus.multi_shard_modify_mode TO 'sequential'`);
    if (options.schema === 'app') {
      await c.query(`CREATE TABLE tenants (id bigserial PRIMARY KEY, name text NOT NULL)`);
      await c.query(`SELECT create_reference_table('tenants')`);
      await c.query(`
        CREATE TABLE users (
          tenant_id bigint NOT NULL REFERENCES tenants (id),
          id bigserial NOT NULL,
          username text NOT NULL,
          PRIMARY KEY (tenant_id, id))`);
      await c.query(
        `SELECT create_distributed_table('users', 'tenant_id', colocate_with => 'none')`,
      );
    }
    // The service's notes table (migrations/1795700000000-InitialSchema.ts); bare drops the FK.
    await c.query(`
      CREATE TABLE notes (
        tenant_id  bigint      NOT NULL,
        id         bigserial   NOT NULL,
        user_id    bigint      NOT NULL,
        title      text,
        content    text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
        ${options.schema === 'app' ? ', FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE' : ''})`);
    await c.query(`CREATE INDEX ON notes (tenant_id, user_id, id)`);
    await c.query(
      options.schema === 'app'
        ? `SELECT create_distributed_table('notes', 'tenant_id', colocate_with => 'users')`
        : `SELECT create_distributed_table('notes', 'tenant_id', colocate_with => 'none')`,
    );
  });
}

interface Placement {
  shardId: string;
  groupId: number;
}

async function placementOf(admin: Client, tenantId: string): Promise<Placement> {
  const { rows } = await admin.query<{ shardid: string; groupid: number }>(
    `SELECT p.shardid::text, p.groupid FROM pg_dist_placement p
      WHERE p.shardid = get_shard_id_for_distribution_column('notes', $1::bigint)`,
    [tenantId],
  );
  return { shardId: rows[0].shardid, groupId: rows[0].groupid };
}

/** `count` tenant ids (new ones, above every earlier run's) that hash into `shardId`. */
async function tenantsInShard(
  admin: Client,
  shardId: string,
  count: number,
  base: number,
): Promise<string[]> {
  const { rows } = await admin.query<{ x: string }>(
    `SELECT x::text FROM generate_series($1::bigint, $1::bigint + 400000) x
      WHERE get_shard_id_for_distribution_column('notes', x) = $2::bigint LIMIT $3`,
    [base, shardId, count],
  );
  if (rows.length < count) throw new Error(`only ${rows.length} tenants found in ${shardId}`);
  return rows.map((r) => r.x);
}

async function createTenants(admin: Client, ids: string[], options: Options): Promise<void> {
  if (options.schema !== 'app') return;
  await admin.query(
    `INSERT INTO tenants (id, name) SELECT x, 'repro ' || x FROM unnest($1::bigint[]) x`,
    [ids],
  );
  for (const id of ids) {
    await admin.query(`INSERT INTO users (tenant_id, id, username) VALUES ($1, $1, 'writer')`, [
      id,
    ]);
  }
}

interface Ack {
  id: string;
  at: number;
}

interface Writers {
  stop: () => Promise<Map<string, Ack[]>>;
  errors: string[];
}

const INSERT_PLAIN = `INSERT INTO "notes" ("tenant_id", "id", "user_id", "title", "content") VALUES ($1, $2, $3, $4, $5)`;
const READ_BY_ID = `SELECT "id" FROM "notes" WHERE "tenant_id" = $1 AND "id" = $2 LIMIT 1`;

function startWriters(pool: Pool, tenants: string[], options: Options): Writers {
  let running = true;
  let clientId = Date.now() * 1000;
  const acks = new Map<string, Ack[]>();
  const errors: string[] = [];
  const query = async (client: Pool | PoolClient, name: string, text: string, values: unknown[]) =>
    client.query<{ id: string }>(options.named ? { name, text, values } : { text, values });
  const loops = tenants.map(async (tenant, w) => {
    const mine: Ack[] = [];
    acks.set(tenant, mine);
    for (let i = 0; running; i += 1) {
      const content = `writer ${w} note ${i}`;
      const [name, text, values] =
        options.statement === 'app'
          ? ['repro_insert', NOTE_SQL.insert, [tenant, tenant, null, content]]
          : [
              'repro_insert_plain',
              INSERT_PLAIN,
              [tenant, String((clientId += 1)), tenant, null, content],
            ];
      try {
        let id: string;
        if (options.tx) {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            const result = await query(client, name, text, values);
            await client.query('COMMIT');
            id = options.statement === 'app' ? result.rows[0].id : String(values[1]);
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          } finally {
            client.release();
          }
        } else {
          const result = await query(pool, name, text, values);
          id = options.statement === 'app' ? result.rows[0].id : String(values[1]);
        }
        mine.push({ id, at: Date.now() });
        if (options.reads) await query(pool, 'repro_read', READ_BY_ID, [tenant, mine[0].id]);
        if (options.pauseMs > 0) await sleep(options.pauseMs);
      } catch (error) {
        errors.push(String(error));
        await sleep(10);
      }
    }
  });
  return {
    errors,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return acks;
    },
  };
}

interface Phase {
  at: number;
  command: string;
  server: string;
}

/** Runs the operation on its own connection, timing every remote command Citus issues. */
async function runOperation(
  url: string,
  sql: string,
  params: unknown[],
): Promise<{ phases: Phase[]; started: number; ended: number }> {
  const phases: Phase[] = [];
  return withClient(url, async (c) => {
    c.on('notice', (notice: { message?: string; detail?: string }) => {
      const message = notice.message ?? '';
      if (message.startsWith('issuing ')) {
        phases.push({
          at: Date.now(),
          command: message.slice('issuing '.length).replace(/\s+/g, ' ').slice(0, 160),
          server: /on server \S+@([^ ]+)/.exec(notice.detail ?? '')?.[1] ?? '',
        });
      }
    });
    await c.query(`SET citus.log_remote_commands = on`);
    await c.query(`SET client_min_messages = notice`);
    const started = Date.now();
    await c.query(sql, params);
    return { phases, started, ended: Date.now() };
  });
}

interface TraceSample {
  at: number;
  /** On the source: pg_current_wal_lsn() (the write position), insert and flush positions. */
  write: string;
  insert: string;
  flush: string;
  /** min(latest_end_lsn) of the transfer's subscriptions, which Citus compares with `write`. */
  subscription: string | null;
}

/** Samples WAL positions until stopped, on connections of its own. */
async function startTrace(source: Node, nodes: Node[]): Promise<() => Promise<TraceSample[]>> {
  const samples: TraceSample[] = [];
  const src = new Client({ connectionString: source.url });
  const subs = nodes.map((n) => new Client({ connectionString: n.url }));
  await src.connect();
  for (const c of subs) await c.connect();
  let running = true;
  const loop = (async () => {
    while (running) {
      const [positions, ...subscriptions] = await Promise.all([
        src.query<{ w: string; i: string; f: string }>(
          `SELECT pg_catalog.pg_current_wal_lsn()::text AS w, pg_catalog.pg_current_wal_insert_lsn()::text AS i,
                  pg_catalog.pg_current_wal_flush_lsn()::text AS f`,
        ),
        ...subs.map((c) =>
          c.query<{ e: string | null }>(
            `SELECT min(latest_end_lsn)::text AS e FROM pg_stat_subscription WHERE subname LIKE 'citus_shard_%'`,
          ),
        ),
      ]);
      const ends = subscriptions.map((r) => r.rows[0].e).filter((e): e is string => e !== null);
      samples.push({
        at: Date.now(),
        write: positions.rows[0].w,
        insert: positions.rows[0].i,
        flush: positions.rows[0].f,
        subscription: ends.sort((a, b) => lsnValue(a) - lsnValue(b))[0] ?? null,
      });
      await sleep(2);
    }
  })();
  return async () => {
    running = false;
    await loop;
    await src.end();
    for (const c of subs) await c.end();
    return samples;
  };
}

/** An LSN as a number (exact below 2^53 bytes of WAL, plenty for a throwaway cluster). */
function lsnValue(lsn: string): number {
  const [high, low] = lsn.split('/');
  return parseInt(high, 16) * 2 ** 32 + parseInt(low, 16);
}

/** A session on the source that commits synchronously every `everyMs` (see --flusher-ms). */
async function startFlusher(source: Node, everyMs: number): Promise<() => Promise<void>> {
  const c = new Client({ connectionString: source.url });
  await c.connect();
  await c.query(`SET citus.enable_ddl_propagation = off`);
  await c.query(`SET synchronous_commit = on`);
  await c.query(`CREATE TABLE IF NOT EXISTS repro_flush (at timestamptz DEFAULT now())`);
  let running = true;
  const loop = (async () => {
    while (running) {
      await c.query(`INSERT INTO repro_flush DEFAULT VALUES`);
      await sleep(everyMs);
    }
  })();
  return async () => {
    running = false;
    await loop;
    await c.query(`TRUNCATE repro_flush`);
    await c.end();
  };
}

interface LostRow {
  id: string;
  tenant: string;
  ackedAt: number;
  foundIn?: string;
  xid?: string;
  committedAt?: number;
  commitLsn?: string;
}

interface RunResult {
  run: number;
  op: Op;
  mode: Mode;
  options: Record<string, unknown>;
  acked: number;
  lost: number;
  lostByWriter: number[];
  writerErrors: number;
  operationMs: number;
  lostRows: LostRow[];
  timeline: Record<string, number | undefined>;
  finalPositionLsnQueries: number;
  /** Samples from 300 ms before writes were blocked to the end of the operation. */
  trace?: TraceSample[];
}

async function cleanupEntries(admin: Client): Promise<Array<{ name: string; groupId: number }>> {
  const { rows } = await admin.query<{
    object_name: string;
    node_group_id: number;
  }>(
    `SELECT object_name, node_group_id FROM pg_dist_cleanup
      WHERE object_type = 1 AND object_name LIKE 'public.notes\\_%'`,
  );
  return rows.map((r) => ({ name: r.object_name, groupId: r.node_group_id }));
}

interface OrphanRow {
  foundIn: string;
  groupId: number;
  xid: string;
  committedAt?: number;
}

/**
 * The writers' rows in placements awaiting deferred cleanup (the sources of finished transfers),
 * with their transaction and commit time. Taken after each step: a later transfer drops the
 * orphans of the one before it when it starts.
 */
async function orphanRows(
  admin: Client,
  nodes: Node[],
  tenants: string[],
  into: Map<string, OrphanRow>,
): Promise<void> {
  for (const orphan of await cleanupEntries(admin)) {
    const node = nodes.find((n) => n.groupId === orphan.groupId);
    if (!node) continue;
    await withClient(node.url, async (c) => {
      const exists = await c.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [orphan.name]);
      if (!(exists.rows[0] as { e: boolean }).e) return;
      const track = (
        await c.query<{ s: string }>(`SELECT current_setting('track_commit_timestamp') AS s`)
      ).rows[0].s;
      const { rows } = await c.query<{
        id: string;
        xid: string;
        committed: Date | null;
      }>(
        `SELECT id::text, xmin::text AS xid,
                ${track === 'on' ? 'pg_xact_commit_timestamp(xmin)' : 'NULL::timestamptz'} AS committed
           FROM ${orphan.name} WHERE tenant_id = ANY($1::bigint[])`,
        [tenants],
      );
      for (const row of rows) {
        into.set(row.id, {
          foundIn: `${orphan.name} on ${node.host}:${node.port}`,
          groupId: node.groupId,
          xid: row.xid,
          committedAt: row.committed ? row.committed.getTime() : undefined,
        });
      }
    });
  }
}

/** Where each lost row was left: the placement, its commit time and commit record LSN. */
async function locate(
  nodes: Node[],
  lost: LostRow[],
  orphans: Map<string, OrphanRow>,
  walStart: Map<number, string>,
): Promise<void> {
  for (const row of lost) {
    const found = orphans.get(row.id);
    if (!found) continue;
    Object.assign(row, {
      foundIn: found.foundIn,
      xid: found.xid,
      committedAt: found.committedAt,
    });
  }
  for (const node of nodes) {
    const xids = lost.filter((row) => row.xid && orphans.get(row.id)?.groupId === node.groupId);
    if (xids.length === 0) continue;
    const commits = await withClient(node.url, (c) =>
      c
        .query<{ xid: string; start_lsn: string }>(
          `SELECT xid::text, start_lsn::text FROM pg_get_wal_records_info($1::pg_lsn, pg_current_wal_flush_lsn())
            WHERE resource_manager = 'Transaction' AND record_type = 'COMMIT' AND xid::text = ANY($2)`,
          [walStart.get(node.groupId) ?? '0/0', xids.map((row) => row.xid)],
        )
        .then((r) => r.rows)
        .catch(() => []),
    );
    for (const row of xids) row.commitLsn = commits.find((cm) => cm.xid === row.xid)?.start_lsn;
  }
}

async function oneRun(
  run: number,
  url: string,
  admin: Client,
  nodes: Node[],
  options: Options,
): Promise<RunResult> {
  // Pick the shard group: a multi-tenant shard (isolation needs one) on some worker.
  const { rows: shards } = await admin.query<{
    shardid: string;
    groupid: number;
  }>(
    `SELECT s.shardid::text, p.groupid FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
      WHERE s.logicalrelid = 'notes'::regclass AND s.shardminvalue <> s.shardmaxvalue
      ORDER BY random() LIMIT 1`,
  );
  const base = 1_000_000_000_000 + (Date.now() % 1_000_000_000) * 1000;
  let writerTenants: string[];
  let opSql: string;
  let opParams: unknown[];
  const source = nodes.find((n) => n.groupId === shards[0].groupid);
  const target = nodes.find((n) => n.groupId !== shards[0].groupid);
  if (!source || !target) throw new Error('no source/target worker');
  if (options.op === 'rebalance') {
    // Unbalance by hand like the e2e test (default transfer mode), writers in the moved groups.
    const { rows: movable } = await admin.query<{ shardid: string }>(
      `SELECT s.shardid::text FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
        WHERE s.logicalrelid = 'notes'::regclass AND p.groupid = $1 AND s.shardminvalue <> s.shardmaxvalue
        ORDER BY random() LIMIT $2`,
      [source.groupId, Math.max(3, options.writers)],
    );
    for (const { shardid } of movable) {
      await admin.query(`SELECT citus_move_shard_placement($1, $2, $3, $4, $5)`, [
        shardid,
        source.host,
        source.port,
        target.host,
        target.port,
      ]);
    }
    await admin.query(`CALL citus_cleanup_orphaned_resources()`);
    writerTenants = [];
    for (let w = 0; w < options.writers; w += 1) {
      const shard = movable[w % movable.length].shardid;
      writerTenants.push(...(await tenantsInShard(admin, shard, 1, base + w * 500_000)));
    }
    opSql = `SELECT citus_rebalance_start(shard_transfer_mode => $1::citus.shard_transfer_mode)`;
    opParams = [options.mode];
  } else {
    writerTenants = await tenantsInShard(admin, shards[0].shardid, options.writers, base);
    if (options.op === 'move') {
      opSql = `SELECT citus_move_shard_placement($1::bigint, $2, $3, $4, $5, shard_transfer_mode => $6::citus.shard_transfer_mode)`;
      opParams = [
        shards[0].shardid,
        source.host,
        source.port,
        target.host,
        target.port,
        options.mode,
      ];
    } else {
      opSql = `SELECT isolate_tenant_to_new_shard('notes', $1::bigint, 'CASCADE', shard_transfer_mode => $2::citus.shard_transfer_mode)`;
      opParams = [writerTenants[0], options.mode];
    }
  }
  if (options.op !== 'rebalance' && options.bystanders > 0) {
    const { rows: others } = await admin.query<{ shardid: string }>(
      `SELECT s.shardid::text FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
        WHERE s.logicalrelid = 'notes'::regclass AND p.groupid = $1 AND s.shardid <> $2
        ORDER BY random() LIMIT $3`,
      [source.groupId, shards[0].shardid, options.bystanders],
    );
    for (const [b, { shardid }] of others.entries()) {
      writerTenants.push(...(await tenantsInShard(admin, shardid, 1, base + (b + 1) * 500_000)));
    }
  }
  await createTenants(admin, writerTenants, options);

  const walStart = new Map<number, string>();
  for (const node of nodes) {
    walStart.set(
      node.groupId,
      await withClient(
        node.url,
        async (c) =>
          (await c.query<{ l: string }>(`SELECT pg_current_wal_insert_lsn()::text AS l`)).rows[0].l,
      ),
    );
  }

  const appUrl = new URL(url);
  if (options.guard)
    appUrl.searchParams.set('options', '-c citus.multi_task_query_log_level=error');
  const pool = new Pool({
    connectionString: appUrl.toString(),
    max: options.pool,
  });
  const stopFlusher =
    options.flusherMs > 0 ? await startFlusher(source, options.flusherMs) : undefined;
  const writers = startWriters(pool, writerTenants, options);
  await sleep(options.beforeMs);

  const stopTrace = options.trace ? await startTrace(source, nodes) : undefined;
  const operation = await runOperation(url, opSql, opParams);
  const orphans = new Map<string, OrphanRow>();
  if (options.op === 'isolate-move') {
    await orphanRows(admin, nodes, writerTenants, orphans);
    const newShard = (await placementOf(admin, writerTenants[0])).shardId;
    const more = await runOperation(
      url,
      `SELECT citus_move_shard_placement($1::bigint, $2, $3, $4, $5, shard_transfer_mode => $6::citus.shard_transfer_mode)`,
      [newShard, source.host, source.port, target.host, target.port, options.mode],
    );
    operation.phases.push(...more.phases);
    operation.ended = more.ended;
  }
  if (options.op === 'rebalance') {
    for (let i = 0; i < 600; i += 1) {
      const { rows } = await admin.query<{ state: string }>(
        `SELECT state::text FROM citus_rebalance_status()`,
      );
      if (!rows[0] || ['finished', 'failed', 'cancelled'].includes(rows[0].state)) break;
      // Each move drops the orphans of the one before it: look while they are there.
      await orphanRows(admin, nodes, writerTenants, orphans);
      await sleep(200);
    }
    operation.ended = Date.now();
  }
  const samples = stopTrace ? await stopTrace() : undefined;
  await sleep(options.afterMs);
  const acks = await writers.stop();
  await pool.end();
  await stopFlusher?.();

  const lostRows: LostRow[] = [];
  let acked = 0;
  const lostByWriter: number[] = [];
  for (const tenant of writerTenants) {
    const mine = acks.get(tenant) ?? [];
    acked += mine.length;
    const { rows } = await admin.query<{ id: string }>(
      `SELECT id::text FROM notes WHERE tenant_id = $1`,
      [tenant],
    );
    const seen = new Set(rows.map((r) => r.id));
    const missing = mine.filter((ack) => !seen.has(ack.id));
    lostByWriter.push(missing.length);
    lostRows.push(...missing.map((ack) => ({ id: ack.id, tenant, ackedAt: ack.at })));
  }
  await orphanRows(admin, nodes, writerTenants, orphans);
  await locate(nodes, lostRows, orphans, walStart);
  await admin.query(`CALL citus_cleanup_orphaned_resources()`);

  const lsnQueries = operation.phases.filter((p) => p.command.includes('pg_current_wal_lsn'));
  const blockAt = operation.phases.find((p) => p.command.includes('lock_shard_metadata'))?.at;
  const timeline = {
    operationStarted: operation.started,
    blockWritesIssued: blockAt,
    finalPositionQuery: lsnQueries.at(-1)?.at,
    operationEnded: operation.ended,
  };
  if (options.verbose) {
    for (const phase of operation.phases) {
      log(`  +${phase.at - operation.started} ms ${phase.server} ${phase.command}`);
    }
  }
  return {
    run,
    op: options.op,
    mode: options.mode,
    options: {
      cluster: options.url ? 'url' : options.cluster,
      writers: options.writers,
      bystanders: options.bystanders,
      flusherMs: options.flusherMs,
      pool: options.pool,
      reads: options.reads,
      pauseMs: options.pauseMs,
      statement: options.statement,
      named: options.named,
      tx: options.tx,
      guard: options.guard,
      schema: options.schema,
      synchronousCommit: options.synchronousCommit ?? 'as configured',
      walWriterDelay: options.walWriterDelay ?? 'as configured',
      catchupTarget: options.catchupTarget,
    },
    acked,
    lost: lostRows.length,
    lostByWriter,
    writerErrors: writers.errors.length,
    operationMs: operation.ended - operation.started,
    lostRows,
    timeline,
    finalPositionLsnQueries: lsnQueries.length,
    trace: samples?.filter((sample) => sample.at >= (blockAt ?? operation.started) - 300),
  };
}

/**
 * PostgreSQL alone: after an acknowledged COMMIT, is pg_current_wal_lsn() (what Citus takes as its
 * catch-up target) already past the commit record? Counts the commits it is not past.
 */
async function probe(nodes: Node[], options: Options): Promise<void> {
  const node = nodes[0];
  await withClient(node.url, async (writer) => {
    await withClient(node.url, async (observer) => {
      await writer.query(
        `CREATE TABLE IF NOT EXISTS repro_probe (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())`,
      );
      const setting = (
        await writer.query<{ s: string }>(`SELECT current_setting('synchronous_commit') AS s`)
      ).rows[0].s;
      let behind = 0;
      const samples = options.runs * 20;
      for (let i = 0; i < samples; i += 1) {
        await writer.query(`INSERT INTO repro_probe DEFAULT VALUES`);
        const { rows } = await observer.query<{
          write: string;
          insert: string;
          behind: boolean;
        }>(
          `SELECT pg_current_wal_lsn()::text AS write, pg_current_wal_insert_lsn()::text AS insert,
                  pg_current_wal_lsn() < pg_current_wal_insert_lsn() AS behind`,
        );
        if (rows[0].behind) behind += 1;
        await sleep(5);
      }
      const line = {
        probe: true,
        node: `${node.host}:${node.port}`,
        synchronousCommit: setting,
        samples,
        behind,
      };
      log(
        `probe on ${line.node}: synchronous_commit=${setting}: after ${samples} acknowledged autocommit INSERTs, ` +
          `pg_current_wal_lsn() was behind the WAL insert position ${behind} times`,
      );
      mkdirSync(dirname(options.out), { recursive: true });
      appendFileSync(options.out, `${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`);
      await writer.query(`DROP TABLE repro_probe`);
    });
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cluster = options.url
    ? { url: options.url, stop: () => undefined }
    : await throwawayCluster(options);
  const admin = new Client({ connectionString: cluster.url });
  try {
    await admin.connect();
    const nodes = await workers(admin, cluster.url);
    await prepareCluster(cluster.url, options, nodes);
    const versions = await admin.query<{ pg: string; citus: string }>(
      `SELECT current_setting('server_version') AS pg, citus_version() AS citus`,
    );
    const settings = await withClient(nodes[0].url, async (c) =>
      (
        await c.query<{ name: string; setting: string }>(
          `SELECT name, setting FROM pg_settings
            WHERE name IN ('synchronous_commit', 'fsync', 'wal_writer_delay', 'track_commit_timestamp')`,
        )
      ).rows
        .map((r) => `${r.name}=${r.setting}`)
        .concat(
          `catch-up target=${(await c.query<{ f: string }>(`SELECT CASE WHEN 'pg_current_wal_lsn'::regproc = 'pg_catalog.pg_current_wal_lsn'::regproc THEN 'pg_current_wal_lsn()' ELSE 'shim: pg_current_wal_insert_lsn()' END AS f`)).rows[0].f}`,
        ),
    );
    log(
      `PostgreSQL ${versions.rows[0].pg}, ${versions.rows[0].citus}; worker settings: ${settings.join(' ')}`,
    );
    if (options.op === 'probe') {
      await probe(nodes, options);
      return;
    }
    mkdirSync(dirname(options.out), { recursive: true });
    let totalLost = 0;
    let totalAcked = 0;
    let runsWithLoss = 0;
    for (let run = 1; run <= options.runs; run += 1) {
      const result = await oneRun(run, cluster.url, admin, nodes, options);
      totalLost += result.lost;
      totalAcked += result.acked;
      if (result.lost > 0) runsWithLoss += 1;
      appendFileSync(
        options.out,
        `${JSON.stringify({ at: new Date().toISOString(), pg: versions.rows[0].pg, settings, ...result })}\n`,
      );
      const finalQuery = result.timeline.finalPositionQuery;
      const detail = result.lostRows
        .map((row) => {
          const committed =
            row.committedAt !== undefined && finalQuery !== undefined
              ? `, committed ${finalQuery - row.committedAt} ms before the last pg_current_wal_lsn()`
              : '';
          return `    id ${row.id}: ${row.foundIn ?? 'not found in any placement awaiting cleanup'}${committed}${row.commitLsn ? `, commit record at ${row.commitLsn}` : ''}`;
        })
        .join('\n');
      if (result.trace && finalQuery !== undefined) {
        const around = result.trace.filter((t) => Math.abs(t.at - finalQuery) <= 40);
        for (const t of around) {
          log(
            `    trace ${t.at - finalQuery} ms: write ${t.write} insert ${t.insert} flush ${t.flush} subscription ${t.subscription ?? '-'}`,
          );
        }
      }
      log(
        `run ${run}/${options.runs} ${options.op} ${options.mode}: ${result.acked} acknowledged, ` +
          `${result.lost} lost (per writer ${result.lostByWriter.join('/')}), operation ${result.operationMs} ms` +
          (result.writerErrors ? `, ${result.writerErrors} writer errors` : '') +
          (detail ? `\n${detail}` : ''),
      );
    }
    log(
      `summary: ${options.op} ${options.mode} x${options.runs}: ${runsWithLoss} runs lost writes, ` +
        `${totalLost} of ${totalAcked} acknowledged inserts lost; results appended to ${options.out}`,
    );
  } finally {
    await admin.end().catch(() => undefined);
    cluster.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(
      `[repro] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  });
}
