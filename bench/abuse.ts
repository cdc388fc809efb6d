import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { percentile, RequestSpec, withSpec } from './load';
import { ROOT, Server } from './processes';
import { BenchTenant } from './seed';
import {
  log,
  loginAll,
  machine,
  median,
  seedWorld,
  settings,
  smoke,
  startService,
  stickyTenants,
  World,
  writeResult,
} from './world';

/**
 * `npm run bench -- --abuse`: a well-behaved tenant's latency alone and beside abuse, measured in
 * one run against the built service with its production defaults (load shedding, tenant budgets):
 *   (a) 64 unauthenticated readiness callers;
 *   (b) 4 clients sending 60 kB bodies of unknown keys, to a tenant route and to login;
 *   (c) another tenant at 10x the well-behaved one's concurrency;
 *   (d) 16x the connections that saturate the service (reads and writes of many tenants): the
 *       served requests' p99 against saturation's, how fast the rest are refused, any other 5xx,
 *       and whether every acknowledged write is in the database;
 * and the cost of Prometheus metrics on GET /notes (the same service with them on and off).
 * Rounds alternate the scenarios, so a noisy machine hurts each alike; medians are reported.
 */

const VICTIM_CONNECTIONS = 4;
const SATURATION = 32;

interface Observed {
  status: number;
  ms: number;
}

interface Run {
  observed: Observed[];
  timeouts: number;
  errors: number;
  seconds: number;
}

/** Closed-loop load that keeps every answer's status and latency (and bodies, if asked). */
async function load(
  url: string,
  connections: number,
  seconds: number,
  next: (client: Record<string, unknown>) => RequestSpec,
  onBody?: (status: number, body: string) => void,
): Promise<Run> {
  const observed: Observed[] = [];
  const options: autocannon.Options = {
    url,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        setupRequest: (request, context) =>
          withSpec(request, next(context as Record<string, unknown>)),
        ...(onBody ? { onResponse: (status: number, body: string) => onBody(status, body) } : {}),
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, answer) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(answer),
    );
    instance.on('response', (_client, status, _bytes, ms) => observed.push({ status, ms }));
  });
  return { observed, timeouts: result.timeouts, errors: result.errors, seconds: result.duration };
}

/**
 * Closed-loop load from clients that honour the contract of a 503 or 429: each connection that
 * is told to come back waits its Retry-After before its next request, as an SDK or a browser's
 * fetch wrapper does; otherwise it sends the next request as soon as it has an answer.
 */
async function politeLoad(
  url: string,
  connections: number,
  seconds: number,
  next: (client: Record<string, unknown>) => RequestSpec,
  onBody?: (status: number, body: string) => void,
): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const observed: Observed[] = [];
  const counts = { timeouts: 0, errors: 0 };
  const base = new URL(url);
  const started = performance.now();
  const ends = started + seconds * 1000;
  const send = (spec: RequestSpec) =>
    new Promise<{ status: number; body: string; retryAfter: number }>((resolve, reject) => {
      const outgoing = httpRequest(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: spec.method,
          path: spec.path,
          timeout: 30_000,
          headers: {
            ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...spec.headers,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              retryAfter: Number(response.headers['retry-after'] ?? 0),
            }),
          );
        },
      );
      outgoing.on('timeout', () => {
        counts.timeouts += 1;
        outgoing.destroy(new Error('timeout'));
      });
      outgoing.on('error', reject);
      outgoing.end(spec.body);
    });
  const client = async () => {
    const context: Record<string, unknown> = {};
    while (performance.now() < ends) {
      const sent = performance.now();
      try {
        const answer = await send(next(context));
        observed.push({ status: answer.status, ms: performance.now() - sent });
        onBody?.(answer.status, answer.body);
        const wait = answer.status === 503 || answer.status === 429 ? answer.retryAfter : 0;
        if (wait > 0) {
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(wait * 1000, ends - performance.now())),
          );
        }
      } catch {
        counts.errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  agent.destroy();
  return { observed, ...counts, seconds: (performance.now() - started) / 1000 };
}

const latencies = (run: Run, keep: (status: number) => boolean) =>
  run.observed
    .filter((o) => keep(o.status))
    .map((o) => o.ms)
    .sort((a, b) => a - b);

function statusCounts(run: Run): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of run.observed) counts[status] = (counts[status] ?? 0) + 1;
  if (run.timeouts) counts.timeout = run.timeouts;
  if (run.errors) counts.error = run.errors;
  return counts;
}

/** A JSON object of about 59 kB of unknown keys: under BODY_LIMIT (64 kB), far over 64 keys. */
const UNKNOWN_KEYS = JSON.stringify(
  Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])),
);

interface Scenario {
  name: string;
  connections: number;
  request: () => RequestSpec;
}

function scenarios(world: World, noisy: BenchTenant): Scenario[] {
  const token = world.tokens.get(noisy.id) ?? '';
  const auth = { authorization: `Bearer ${token}` };
  return [
    {
      name: '(a) 64 readiness callers',
      connections: 64,
      request: () => ({ method: 'GET', path: '/health/ready' }),
    },
    {
      name: '(b) 4 x 60 kB unknown keys to POST /notes',
      connections: 4,
      request: () => ({ method: 'POST', path: '/api/v1/notes', headers: auth, body: UNKNOWN_KEYS }),
    },
    {
      name: '(b) 4 x 60 kB unknown keys to POST /auth/login',
      connections: 4,
      request: () => ({ method: 'POST', path: '/api/v1/auth/login', body: UNKNOWN_KEYS }),
    },
    {
      name: `(c) another tenant at ${VICTIM_CONNECTIONS * 10} connections`,
      connections: VICTIM_CONNECTIONS * 10,
      request: () => ({ method: 'GET', path: '/api/v1/notes?limit=20', headers: auth }),
    },
  ];
}

/** Runs `abuse` from a process of its own (bench/abuser.ts) for `seconds`; its answers' statuses. */
function abuser(
  service: Server,
  abuse: Scenario,
  seconds: number,
): { started: Promise<void>; done: Promise<Record<string, number>> } {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'bench/abuser.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ABUSER: JSON.stringify({
          url: service.url,
          connections: abuse.connections,
          seconds,
          request: abuse.request(),
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('started\n')) markStarted();
  });
  const done = new Promise<Record<string, number>>((resolve, reject) =>
    child.once('exit', (code) => {
      markStarted();
      const last = output.trim().split('\n').pop() ?? '';
      if (code === 0) resolve(JSON.parse(last) as Record<string, number>);
      else reject(new Error(`the abuser exited with ${code}`));
    }),
  );
  return { started, done };
}

async function measureVictim(
  service: Server,
  victim: { tenant: BenchTenant; token: string },
  seconds: number,
  abuse?: Scenario,
): Promise<{ victim: Run; abuser?: Record<string, number> }> {
  const request = (): RequestSpec => ({
    method: 'GET',
    path: '/api/v1/notes?limit=20',
    headers: { authorization: `Bearer ${victim.token}` },
  });
  if (!abuse) return { victim: await load(service.url, VICTIM_CONNECTIONS, seconds, request) };
  // The abuse runs a second longer on each side, so the victim's whole window is beside it.
  const other = abuser(service, abuse, seconds + 2);
  await other.started;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const victimRun = await load(service.url, VICTIM_CONNECTIONS, seconds, request);
  return { victim: victimRun, abuser: await other.done };
}

/** Reads and writes spread over many tenants, for saturation and beyond. */
function mixed(world: World, written: string[]) {
  let count = 0;
  const tenantOf = stickyTenants(world);
  const next = (client: Record<string, unknown>): RequestSpec => {
    const tenant = tenantOf(client);
    const headers = { authorization: `Bearer ${world.tokens.get(tenant.id) ?? ''}` };
    count += 1;
    return count % 5 === 0
      ? {
          method: 'POST',
          path: '/api/v1/notes',
          headers,
          body: JSON.stringify({ content: `abuse ${count}` }),
        }
      : { method: 'GET', path: '/api/v1/notes?limit=20', headers };
  };
  const onBody = (status: number, body: string) => {
    if (status === 201) written.push((JSON.parse(body) as { id: string }).id);
  };
  return { next, onBody };
}

async function lostWrites(world: World, ids: string[]): Promise<number> {
  const client = new Client({ connectionString: world.db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notes WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return ids.length - rows[0].n;
  } finally {
    await client.end();
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/** (d)'s figures from runs at saturation and at 16x its connections. */
function floodFigures(saturated: Run[], flooded: Run[]) {
  const ok = (s: number) => s >= 200 && s < 300;
  const satP99 = median(saturated.map((run) => percentile(latencies(run, ok), 99)));
  const servedP99 = median(flooded.map((run) => percentile(latencies(run, ok), 99)));
  const shedP99 = median(
    flooded.map((run) =>
      percentile(
        latencies(run, (s) => s === 503),
        99,
      ),
    ),
  );
  const otherServerErrors = flooded
    .concat(saturated)
    .reduce(
      (sum, run) => sum + run.observed.filter((o) => o.status >= 500 && o.status !== 503).length,
      0,
    );
  const rps = (run: Run) =>
    Math.round(run.observed.filter((o) => ok(o.status)).length / run.seconds);
  return {
    saturationP99: round1(satP99),
    servedP99: round1(servedP99),
    servedRatio: round1(servedP99 / satP99),
    shedP99: round1(shedP99),
    otherServerErrors,
    saturationRps: saturated.map(rps),
    floodRps: flooded.map(rps),
    floodStatuses: flooded.map(statusCounts),
    met: servedP99 / satP99 <= 2 && shedP99 <= 50 && otherServerErrors === 0,
  };
}

export async function runAbuse(world: World): Promise<void> {
  const seconds = settings.seconds;
  const rounds = settings.rounds;
  // Enough tenants that 16x saturation stays under each tenant's concurrency budget: what
  // (d) measures is shedding, not the tenants' shares.
  const tenantCount = Number(process.env.BENCH_TENANTS ?? (smoke ? 4 : 128));
  const notes = Number(process.env.BENCH_NOTES ?? (smoke ? 20 : 200));
  log(`seeding ${tenantCount} tenants x ${notes} notes`);
  world.tenants = await seedWorld(world.db, tenantCount, notes);
  const servers: Server[] = [];
  try {
    // Production defaults: metrics, shedding and tenant budgets on.
    const service = await startService(world, 'service');
    servers.push(service);
    const withoutMetrics = await startService(world, 'service-no-metrics', {
      METRICS_ENABLED: 'false',
    });
    servers.push(withoutMetrics);
    const withRequestIds = await startService(world, 'service-request-ids', {
      DB_REQUEST_IDS: 'true',
    });
    servers.push(withRequestIds);
    world.tokens = await loginAll(service, world.tenants);
    const [victimTenant, noisyTenant] = world.tenants;
    const victim = { tenant: victimTenant, token: world.tokens.get(victimTenant.id) ?? '' };
    const abuse = scenarios(world, noisyTenant);

    // Warm-up: plans cached, JIT warm, pools full.
    await measureVictim(service, victim, settings.warmupSeconds || 1);

    const alone: Run[] = [];
    const beside = new Map<string, { victim: Run[]; abuser: Array<Record<string, number>> }>(
      abuse.map((s) => [s.name, { victim: [], abuser: [] }]),
    );
    for (let round = 0; round < rounds; round += 1) {
      alone.push((await measureVictim(service, victim, seconds)).victim);
      for (const scenario of abuse) {
        const { victim: v, abuser } = await measureVictim(service, victim, seconds, scenario);
        beside.get(scenario.name)?.victim.push(v);
        if (abuser) beside.get(scenario.name)?.abuser.push(abuser);
        // Let refusals' windows and backoffs pass before the next scenario.
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      log(`round ${round + 1}/${rounds} of the neighbours done`);
    }
    const p = (runs: Run[], q: number) =>
      median(
        runs.map((run) =>
          percentile(
            latencies(run, (s) => s < 400),
            q,
          ),
        ),
      );
    const aloneP99 = p(alone, 99);
    const neighbours = abuse.map((scenario) => {
      const runs = beside.get(scenario.name) ?? { victim: [], abuser: [] };
      const p99 = p(runs.victim, 99);
      const target = scenario.name.startsWith('(c)') ? 2 : 1.5;
      return {
        scenario: scenario.name,
        victimP50: round1(p(runs.victim, 50)),
        victimP99: round1(p99),
        ratio: round1(p99 / aloneP99),
        target,
        met: p99 / aloneP99 <= target,
        victimStatuses: runs.victim.map(statusCounts),
        abuserStatuses: runs.abuser,
      };
    });

    // (d): saturation, then 16x its connections, alternating; once from clients that honour
    // Retry-After and once from clients that re-send each refused request at once.
    const written: string[] = [];
    const ok = (s: number) => s >= 200 && s < 300;
    const flood = { honouring: politeLoad, ignoring: load } as const;
    const floods: Record<string, ReturnType<typeof floodFigures>> = {};
    for (const [kind, generate] of Object.entries(flood)) {
      const saturated: Run[] = [];
      const flooded: Run[] = [];
      for (let round = 0; round < rounds; round += 1) {
        for (const [connections, runs] of [
          [SATURATION, saturated],
          [SATURATION * 16, flooded],
        ] as const) {
          const { next, onBody } = mixed(world, written);
          runs.push(await generate(service.url, connections, seconds, next, onBody));
          await new Promise((resolve) => setTimeout(resolve, 1500));
        }
        log(`round ${round + 1}/${rounds} of the flood (clients ${kind} Retry-After) done`);
      }
      floods[kind] = floodFigures(saturated, flooded);
    }
    const lost = await lostWrites(world, written);
    const otherServerErrors = Object.values(floods).reduce(
      (sum, f) => sum + f.otherServerErrors,
      0,
    );
    const floodResult = {
      saturationConnections: SATURATION,
      floodConnections: SATURATION * 16,
      ...floods,
      acknowledgedWrites: written.length,
      lostWrites: lost,
      met: Object.values(floods).every((f) => f.met) && lost === 0,
    };

    // What metrics and request ids cost: GET /notes throughput of the production service against
    // the same service without one of them, alternating.
    const throughput = {
      on: [] as number[],
      noMetrics: [] as number[],
      withRequestIds: [] as number[],
    };
    for (let round = 0; round < rounds; round += 1) {
      for (const [key, server] of [
        ['noMetrics', withoutMetrics],
        ['on', service],
        ['withRequestIds', withRequestIds],
      ] as const) {
        const tenantOf = stickyTenants(world);
        const run = await load(server.url, SATURATION, seconds, (client) => {
          const tenant = tenantOf(client);
          return {
            method: 'GET',
            path: '/api/v1/notes?limit=20',
            headers: { authorization: `Bearer ${world.tokens.get(tenant.id) ?? ''}` },
          };
        });
        throughput[key].push(run.observed.filter((o) => ok(o.status)).length / run.seconds);
      }
    }
    const ratio = (a: number[], b: number[]) => Math.round((median(a) / median(b)) * 1000) / 1000;
    const metrics = {
      rpsOn: Math.round(median(throughput.on)),
      rpsWithoutMetrics: Math.round(median(throughput.noMetrics)),
      rpsWithRequestIds: Math.round(median(throughput.withRequestIds)),
      metricsRatio: ratio(throughput.on, throughput.noMetrics),
      requestIdsRatio: ratio(throughput.withRequestIds, throughput.on),
      rounds: throughput,
      met: median(throughput.on) / median(throughput.noMetrics) >= 0.97,
    };

    log(`well-behaved tenant alone: p50 ${round1(p(alone, 50))} ms, p99 ${round1(aloneP99)} ms`);
    for (const row of neighbours) {
      log(
        `${row.scenario}: p99 ${row.victimP99} ms = ${row.ratio}x alone (target <= ${row.target}x) ${row.met ? 'MET' : 'NOT MET'}`,
      );
    }
    for (const [kind, f] of Object.entries(floods)) {
      log(
        `(d) ${floodResult.floodConnections} connections ${kind} Retry-After: served p99 ${f.servedP99} ms = ${f.servedRatio}x saturation's ${f.saturationP99} ms (target <= 2x); ` +
          `shed p99 ${f.shedP99} ms (target <= 50); other 5xx ${f.otherServerErrors} ${f.met ? 'MET' : 'NOT MET'}`,
      );
    }
    log(
      `(d) ${written.length} acknowledged writes, ${lost} lost; other 5xx in all ${otherServerErrors}`,
    );
    log(
      `metrics on GET /notes: ${metrics.rpsOn} vs ${metrics.rpsWithoutMetrics} req/s without = ${metrics.metricsRatio}x (target >= 0.97) ${metrics.met ? 'MET' : 'NOT MET'}; ` +
        `DB_REQUEST_IDS=true: ${metrics.rpsWithRequestIds} vs ${metrics.rpsOn} req/s without = ${metrics.requestIdsRatio}x`,
    );
    const file = writeResult('abuse', {
      machine: machine(world.db),
      seconds,
      rounds,
      tenants: tenantCount,
      alone: {
        p50: round1(p(alone, 50)),
        p99: round1(aloneP99),
        statuses: alone.map(statusCounts),
      },
      neighbours,
      flood: floodResult,
      metrics,
    });
    log(`result: ${file}`);
  } finally {
    for (const server of servers) await server.stop();
  }
}
