/**
 * `npm run bench:move-stall`: how long tenants' writes stall while the service reshapes the
 * cluster, with the service's default shard transfer mode (CITUS_SHARD_TRANSFER_MODE unset).
 *
 * A throwaway Citus coordinator + 2 workers with PostgreSQL's durable defaults (or
 * BENCH_DATABASE_URL), the built service (dist/, production settings) as its own process, and
 * closed-loop writers (POST /api/v1/notes, one request in flight each) for:
 *   moved      the tenant the operation is about, seeded with 10,000 or 100,000 notes
 *   neighbour  a tenant that shares the moved tenant's shard group before the operation
 *   elsewhere  a tenant in a shard group the operation does not touch
 * Scenarios, one shard group at a time, as the admin API does them:
 *   isolate+move  POST /admin/citus/tenants/:id/isolate {targetNodeId}: the split of the
 *                 tenant's shard group, then the move of its new one-tenant group
 *   rebalance     POST /admin/citus/rebalance after the cluster was skewed by exactly enough
 *                 shard groups for Citus to move one back; the moved tenant is put in the group
 *                 Citus plans to move (get_rebalance_table_shards_plan)
 * For each writer: requests overlapping the operation, their p50 / p99 / longest latency, and
 * anything but 201 (the service's statement timeout is 15 s). The moved tenant's writes wait for
 * seconds at a time, so its p99 is close to its longest.
 *
 * Settings (environment): MOVE_STALL_SIZES (10000,100000), MOVE_STALL_SCENARIOS
 * (isolate,rebalance), MOVE_STALL_MODE (a transfer mode to
 * pass the service instead of its default), BENCH_DATABASE_URL (a cluster this may reshape:
 * it moves and splits shard groups), BENCH_KEEP_DB=1, BENCH_OUT.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as bcrypt from 'bcrypt';
import { Client } from 'pg';
import { freePort } from '../test/harness/test-database';
import { startMailSink } from '../tools/mail/sink';
import { benchDatabase, RESULTS_DIR } from './database';
import { percentile } from './load';
import { Server, serviceEntry, startServer } from './processes';
import {
  analyze,
  BENCH_PASSWORD,
  clearBenchRows,
  emailOf,
  seedNotes,
  seedTenants,
  tenantId,
} from './seed';
import { writeResult } from './world';

const log = (message: string): void => {
  process.stdout.write(`[move-stall] ${message}\n`);
};
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const SIZES = (process.env.MOVE_STALL_SIZES ?? '10000,100000').split(',').map(Number);
const MODE = process.env.MOVE_STALL_MODE;
const SCENARIOS = (process.env.MOVE_STALL_SCENARIOS ?? 'isolate,rebalance').split(',');
/** Bench tenants seeded with a few notes each; the moved ones get the rest of their size. */
const TENANTS = 256;
const SMALL = 20;
const OPERATOR = { email: 'bench-operator@bench.example', password: 'bench operator password' };

type Role = 'moved' | 'neighbour' | 'elsewhere';

interface Lane {
  role: Role;
  index: number;
  token: string;
  samples: Array<{ start: number; end: number; status: number }>;
}

interface LaneStats {
  role: Role;
  tenantId: string;
  requests: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  /** p50 over the seconds before the operation, for comparison. */
  baselineP50: number;
}

interface ScenarioResult {
  scenario: 'isolate+move' | 'rebalance';
  notes: number;
  transferMode: string;
  operationMs: number;
  shardGroupNotes: number;
  moved: boolean;
  /** Rebalance only: how many shard groups Citus moved (one is the smallest step). */
  shardGroupsMoved?: number;
  lanes: LaneStats[];
}

interface TenantShard {
  index: number;
  shardId: string;
  groupId: number;
}

async function shardsOf(db: Client): Promise<TenantShard[]> {
  const { rows } = await db.query<{ i: number; shardid: string; groupid: number }>(
    `SELECT i, s.shardid::text, p.groupid
       FROM generate_series(0, $2::int - 1) i
       JOIN pg_dist_shard s ON s.shardid = get_shard_id_for_distribution_column('users', $1::bigint + i)
       JOIN pg_dist_placement p ON p.shardid = s.shardid`,
    [tenantId(0), TENANTS],
  );
  return rows.map((r) => ({ index: r.i, shardId: r.shardid, groupId: r.groupid }));
}

async function workers(
  db: Client,
): Promise<Array<{ id: number; group: number; host: string; port: number }>> {
  const { rows } = await db.query<{
    nodeid: number;
    groupid: number;
    nodename: string;
    nodeport: number;
  }>(
    `SELECT nodeid, groupid, nodename, nodeport FROM pg_dist_node
      WHERE noderole = 'primary' AND groupid <> 0 AND shouldhaveshards ORDER BY groupid`,
  );
  return rows.map((r) => ({ id: r.nodeid, group: r.groupid, host: r.nodename, port: r.nodeport }));
}

async function login(service: Server, index: number): Promise<string> {
  const response = await fetch(`${service.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: emailOf(index), password: BENCH_PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`login ${emailOf(index)}: ${response.status}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

async function api(
  service: Server,
  token: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** One request in flight per lane until stopped; every request's start, end and status. */
function startWriters(service: Server, lanes: Lane[]): () => Promise<void> {
  let running = true;
  const loops = lanes.map(async (lane) => {
    for (let i = 0; running; i += 1) {
      const start = performance.now();
      const status = await fetch(`${service.url}/api/v1/notes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${lane.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: `move-stall write ${i}` }),
      }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      );
      lane.samples.push({ start, end: performance.now(), status });
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

function laneStats(lane: Lane, from: number, to: number): LaneStats {
  const during = lane.samples.filter((s) => s.start < to && s.end > from);
  const before = lane.samples.filter((s) => s.end <= from);
  const latencies = during.map((s) => s.end - s.start).sort((a, b) => a - b);
  const baseline = before.map((s) => s.end - s.start).sort((a, b) => a - b);
  return {
    role: lane.role,
    tenantId: tenantId(lane.index),
    requests: during.length,
    failed: during.filter((s) => s.status !== 201).length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    baselineP50: percentile(baseline, 50),
  };
}

async function groupNotes(db: Client, tenantIndex: number): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM notes
      WHERE get_shard_id_for_distribution_column('notes', tenant_id) =
            get_shard_id_for_distribution_column('notes', $1::bigint)`,
    [tenantId(tenantIndex)],
  );
  return Number(rows[0].n);
}

/** The moved tenant's notes up to `size` (it has SMALL already). */
async function seedMovedTenant(client: Client, index: number, size: number): Promise<void> {
  await seedNotes(client, { from: index, to: index + 1 }, { fromK: SMALL + 1, toK: size }, log);
  await client.query('ANALYZE notes');
}

/** Writers run from 3 s before the operation until 1 s after it; returns the operation's window. */
async function measure(
  service: Server,
  lanes: Lane[],
  operation: () => Promise<void>,
): Promise<{ from: number; to: number }> {
  const stop = startWriters(service, lanes);
  try {
    await sleep(3000);
    const from = performance.now();
    await operation();
    const to = performance.now();
    await sleep(1000);
    return { from, to };
  } finally {
    await stop();
  }
}

async function main(): Promise<void> {
  const db = await benchDatabase({ name: 'move-stall', fast: false, log });
  const sink = await startMailSink({
    port: await freePort(),
    dir: mkdtempSync(join(tmpdir(), 'move-stall-mail-')),
  });
  let service: Server | undefined;
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    if (!db.citus || db.workers < 2) {
      throw new Error('bench:move-stall needs Citus with two or more workers');
    }
    log(`database: ${db.versions.join('; ')}; ${db.workers} workers; ${db.url}`);
    await clearBenchRows(client);
    await seedTenants(client, 0, TENANTS, await bcrypt.hash(BENCH_PASSWORD, 12));
    await seedNotes(client, { from: 0, to: TENANTS }, { fromK: 1, toK: SMALL });

    // Isolation subjects in the highest-id shard groups; rebalance subjects come from Citus' plan.
    const placement = await shardsOf(client);
    const byShard = new Map<string, TenantShard[]>();
    for (const t of placement) byShard.set(t.shardId, [...(byShard.get(t.shardId) ?? []), t]);
    const shardIds = [...byShard.keys()].sort((a, b) => Number(a) - Number(b));
    const pickPair = (shardId: string) => {
      const [moved, neighbour] = byShard.get(shardId) ?? [];
      if (!moved || !neighbour)
        throw new Error(`shard ${shardId} holds fewer than 2 bench tenants`);
      return { moved, neighbour };
    };
    const isolateSubjects = SIZES.map((_, i) => pickPair(shardIds[shardIds.length - 1 - i]));
    const used = new Set(
      isolateSubjects.flatMap((pair) => [pair.moved.index, pair.neighbour.index]),
    );
    // Their groups get big later: a rebalance scenario must not pick them.
    for (const pair of isolateSubjects) heavy.add(pair.moved.index);
    await analyze(client);

    const secret = randomBytes(32).toString('hex');
    mkdirSync(RESULTS_DIR, { recursive: true });
    const svc = await startServer({
      name: 'service',
      entry: serviceEntry(false),
      logFile: join(RESULTS_DIR, 'move-stall-service.log'),
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        JWT_SECRET: secret,
        JWT_TTL_SECONDS: '3600',
        BCRYPT_COST: '12',
        SMTP_URL: sink.url,
        ADMIN_EMAIL: OPERATOR.email,
        ADMIN_PASSWORD: OPERATOR.password,
        AUTH_RATE_LIMIT_PER_IP: '1000000',
        AUTH_RATE_LIMIT_PER_EMAIL: '1000000',
        SHUTDOWN_DELAY_MS: '0',
        LOG_LEVEL: 'warn',
        ...(MODE ? { CITUS_SHARD_TRANSFER_MODE: MODE } : {}),
      },
    });
    service = svc;
    const operatorLogin = await fetch(`${svc.url}/api/v1/admin/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(OPERATOR),
    });
    const operator = ((await operatorLogin.json()) as { accessToken: string }).accessToken;
    const nodes = await workers(client);

    const lanesFor = async (
      moved: number,
      neighbour: number,
      elsewhere: number,
    ): Promise<Lane[]> => [
      { role: 'moved', index: moved, token: await login(svc, moved), samples: [] },
      { role: 'neighbour', index: neighbour, token: await login(svc, neighbour), samples: [] },
      { role: 'elsewhere', index: elsewhere, token: await login(svc, elsewhere), samples: [] },
    ];
    const results: ScenarioResult[] = [];
    const report = (result: ScenarioResult) => {
      results.push(result);
      log(
        `${result.scenario} of a ${result.notes}-note tenant (${result.shardGroupNotes} notes in its shard group), ` +
          `${result.transferMode}: ${result.operationMs} ms` +
          (result.shardGroupsMoved === undefined
            ? ''
            : `, ${result.shardGroupsMoved} shard group(s) moved`) +
          (result.moved ? '' : ' (its group did NOT move)'),
      );
      for (const lane of result.lanes) {
        log(
          `  ${lane.role.padEnd(9)} ${String(lane.requests).padStart(5)} writes  p50 ${lane.p50.toFixed(0)} ms  ` +
            `p99 ${lane.p99.toFixed(0)} ms  longest ${lane.max.toFixed(0)} ms  failed ${lane.failed}  ` +
            `(before: p50 ${lane.baselineP50.toFixed(0)} ms)`,
        );
      }
    };

    // Rebalances first: once tenants are isolated, Citus' plan often names their one-tenant groups,
    // which hold no second tenant to measure as a neighbour.
    for (const size of SCENARIOS.includes('rebalance') ? SIZES : []) {
      report(await rebalanceScenario(client, svc, operator, size, used, lanesFor));
    }

    for (const [i, size] of SCENARIOS.includes('isolate') ? SIZES.entries() : []) {
      // isolate+move: the moved tenant's own shard group goes to the other worker.
      // Where the subjects are now: the rebalances above moved shard groups around.
      const now = await shardsOf(client);
      const where = (t: TenantShard) => now.find((c) => c.index === t.index) ?? t;
      const moved = where(isolateSubjects[i].moved);
      const neighbour = where(isolateSubjects[i].neighbour);
      // Seeded only now, so that the rebalances above never carry this tenant's notes.
      await seedMovedTenant(client, moved.index, size);
      const elsewhere = now.find((t) => t.groupId === moved.groupId && t.shardId !== moved.shardId);
      if (!elsewhere) throw new Error('no tenant in another shard group on the same worker');
      const target = nodes.find((n) => n.group !== moved.groupId);
      if (!target) throw new Error('no other worker');
      const lanes = await lanesFor(moved.index, neighbour.index, elsewhere.index);
      const shardGroupNotes = await groupNotes(client, moved.index);
      let answer: { status: number; body: Record<string, unknown> } = { status: 0, body: {} };
      const window = await measure(svc, lanes, async () => {
        answer = await api(
          svc,
          operator,
          'POST',
          `/api/v1/admin/citus/tenants/${tenantId(moved.index)}/isolate`,
          {
            targetNodeId: target.id,
          },
        );
      });
      if (answer.status !== 200)
        throw new Error(`isolate answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      report({
        scenario: 'isolate+move',
        notes: size,
        transferMode: String(answer.body.transferMode),
        operationMs: Math.round(window.to - window.from),
        shardGroupNotes,
        moved: answer.body.moved === true,
        lanes: lanes.map((lane) => laneStats(lane, window.from, window.to)),
      });
    }

    const file = writeResult('move-stall', {
      at: new Date().toISOString(),
      database: db.versions,
      transferMode: MODE ?? 'service default',
      results,
    });
    log(`written to ${file}`);
  } finally {
    await service?.stop();
    await client.end();
    await sink.stop();
    db.stop();
  }
}

/** Tenants filled with notes by a scenario (or to be, by an isolation scenario). */
const heavy = new Set<number>();

/**
 * Skews the cluster by just enough shard groups for Citus' default threshold to move one back
 * (usually four more on one worker), asks Citus which group that will be
 * (get_rebalance_table_shards_plan), puts the measured tenant's notes into a tenant of that group,
 * then lets the service rebalance while the writers run.
 */
async function rebalanceScenario(
  client: Client,
  service: Server,
  operator: string,
  size: number,
  used: Set<number>,
  lanesFor: (moved: number, neighbour: number, elsewhere: number) => Promise<Lane[]>,
): Promise<ScenarioResult> {
  const nodes = await workers(client);
  const groups = async () =>
    (
      await client.query<{ shardid: string; groupid: number }>(
        `SELECT s.shardid::text, p.groupid FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
          WHERE s.logicalrelid = 'users'::regclass ORDER BY s.shardid`,
      )
    ).rows;
  const moveGroup = async (shardId: string, toGroup: number) => {
    const from = (await groups()).find((g) => g.shardid === shardId);
    const source = nodes.find((n) => n.group === from?.groupid);
    const target = nodes.find((n) => n.group === toGroup);
    if (!source || !target || source.group === target.group) return;
    await client.query(
      `SELECT citus_move_shard_placement($1::bigint, $2, $3, $4, $5, shard_transfer_mode => 'block_writes')`,
      [shardId, source.host, source.port, target.host, target.port],
    );
    // A group may come back here later; its old placement must be gone by then.
    await client.query(`CALL citus_cleanup_orphaned_resources()`);
  };
  const initial = await groups();
  const count = (all: typeof initial, group: number) =>
    all.filter((g) => g.groupid === group).length;
  const [full, other] =
    count(initial, nodes[0].group) >= count(initial, nodes[1].group)
      ? [nodes[0], nodes[1]]
      : [nodes[1], nodes[0]];

  let planned: { shardId: string; tenants: TenantShard[] } | undefined;
  const unmeasurable = new Set<string>();
  // Four more groups on one worker are usually enough for Citus' default threshold; more if not.
  let target = 4;
  for (let attempt = 0; attempt < 20 && !planned; attempt += 1) {
    for (;;) {
      const all = await groups();
      const skew = count(all, full.group) - count(all, other.group);
      if (skew === target) break;
      const from = skew < target ? other.group : full.group;
      const pick = [...all]
        .reverse()
        .find((g) => g.groupid === from && !unmeasurable.has(g.shardid));
      if (!pick) throw new Error('rebalance setup: no shard group left to move');
      await moveGroup(pick.shardid, skew < target ? full.group : other.group);
    }
    const plan = await client.query<{ shardid: string }>(
      `SELECT shardid::text FROM get_rebalance_table_shards_plan() WHERE table_name = 'users'::regclass`,
    );
    if (plan.rows.length === 0) {
      target += 1;
      continue;
    }
    const shardId = plan.rows[0].shardid;
    const inGroup = (await shardsOf(client)).filter((t) => t.shardId === shardId);
    const tenants = inGroup.filter((t) => !used.has(t.index));
    // A group without two unused bench tenants (an isolated one, say) cannot be measured, nor one
    // that already holds an earlier scenario's big tenant (its size would add to this one's):
    // move it off the fullest worker and skew again.
    if (tenants.length >= 2 && !inGroup.some((t) => heavy.has(t.index))) {
      planned = { shardId, tenants };
    } else {
      unmeasurable.add(shardId);
      await moveGroup(shardId, other.group);
    }
  }
  if (!planned) throw new Error('rebalance setup: Citus never planned a measurable shard group');

  const [moved, neighbour] = planned.tenants;
  heavy.add(moved.index);
  used.add(moved.index);
  used.add(neighbour.index);
  await seedMovedTenant(client, moved.index, size);
  const elsewhere = (await shardsOf(client)).find(
    (t) => t.groupId === other.group && !used.has(t.index),
  );
  if (!elsewhere) throw new Error('rebalance setup: no tenant on the other worker');
  const lanes = await lanesFor(moved.index, neighbour.index, elsewhere.index);
  const shardGroupNotes = await groupNotes(client, moved.index);
  const window = await measure(service, lanes, async () => {
    const started = await api(service, operator, 'POST', '/api/v1/admin/citus/rebalance');
    if (started.status !== 202) {
      throw new Error(`rebalance answered ${started.status}: ${JSON.stringify(started.body)}`);
    }
    for (;;) {
      await sleep(100);
      const status = await api(service, operator, 'GET', '/api/v1/admin/citus/rebalance');
      const state = String(status.body.state);
      if (['finished', 'failed', 'cancelled'].includes(state)) {
        if (state !== 'finished') throw new Error(`rebalance ${state}`);
        return;
      }
    }
  });
  // The job's moves, as Citus queued them: SELECT pg_catalog.citus_move_shard_placement(shard, from, to, 'mode').
  const tasks = (
    await client.query<{ command: string }>(
      `SELECT command FROM pg_dist_background_task
        WHERE job_id = (SELECT max(job_id) FROM pg_dist_background_job) ORDER BY task_id`,
    )
  ).rows.map((row) => /citus_move_shard_placement\((\d+),\d+,\d+,'(\w+)'\)/.exec(row.command));
  const movedShards = tasks.map((task) => task?.[1] ?? '?');
  const after = (await groups()).find((g) => g.shardid === planned.shardId);
  return {
    scenario: 'rebalance',
    notes: size,
    transferMode: tasks[0]?.[2] ?? 'unknown',
    shardGroupsMoved: movedShards.length,
    operationMs: Math.round(window.to - window.from),
    shardGroupNotes,
    moved: after?.groupid !== full.group,
    lanes: lanes.map((lane) => laneStats(lane, window.from, window.to)),
  };
}

main().catch((error: unknown) => {
  console.error(
    `[move-stall] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
