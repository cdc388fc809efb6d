/**
 * `npm run bench`: what the API tier costs next to the work it fronts, measured in one run.
 *
 * Targets, measured in alternating rounds so a noisy machine hurts each alike:
 *   service  the real service (dist/src/main.js, production settings, request logs on)
 *   bare     bench/bare-server.ts: node:http + pg + an HS256 check + the same statements
 *   pgbench  the same statements straight into the database (32 clients, prepared)
 * Routes: GET /notes, GET /notes/:id, POST /notes, PATCH /notes/:id and login (bcrypt-only
 * baseline); then the service with 2 processes (WEB_CONCURRENCY=2) against 1.
 *
 *   npm run bench                         # full run on a throwaway cluster (Citus when installed)
 *   npm run bench -- --smoke              # a few seconds, from source: keeps the bench working
 *   npm run bench -- --scale              # 10,000 tenants and 1,000,000 notes (bench/scale.ts)
 *   npm run bench -- --abuse              # a tenant's latency beside abuse, shedding, metrics (bench/abuse.ts)
 *   npm run bench -- --access-cost        # what checking each session and role costs (bench/access-cost.ts)
 *   npm run bench -- --profile=list       # CPU profile of the service under one route
 *   BENCH_DATABASE_URL=postgres://...     # use this database instead (bench rows are cleaned)
 *
 * Settings (environment): BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_CONNECTIONS (32),
 * BENCH_LOGIN_CONNECTIONS (8), BENCH_TENANTS (20), BENCH_NOTES (500 per tenant),
 * BENCH_BCRYPT_COST (12), BENCH_OUT (result file).
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/harness/test-database';
import { startMailSink } from '../tools/mail/sink';
import { benchDatabase, RESULTS_DIR } from './database';
import { Sample } from './load';
import { pgbench } from './pgbench';
import { Server } from './processes';
import { forPgbench, NOTE_SQL } from './statements';
import { summarizeProfile } from './profile-summary';
import { runAbuse } from './abuse';
import { runAccessCost } from './access-cost';
import { runScale } from './scale';
import {
  BENCH_PASSWORD,
  BenchTenant,
  NOTE_BASE,
  NOTE_STRIDE,
  noteId,
  TENANT_BASE,
  USER_BASE,
} from './seed';
import {
  abuseMode,
  accessCostMode,
  log,
  loginAll,
  machine,
  measureHttp,
  profileRoute,
  Route,
  RouteName,
  scaleMode,
  seedWorld,
  settings,
  smoke,
  startBare,
  startService,
  Summary,
  summarize,
  Target,
  World,
  writeResult,
} from './world';

let edits = 0;

function routes(): Route[] {
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const vars = [
    `\\set i random(0, ${settings.tenants - 1})`,
    `\\set tid ${TENANT_BASE} + :i`,
    `\\set uid ${USER_BASE} + :i`,
    `\\set nid ${NOTE_BASE} + :i * ${NOTE_STRIDE} + random(1, ${settings.notes})`,
  ].join('\n');
  const randomNote = (tenant: BenchTenant) =>
    noteId(tenant.index, 1 + Math.floor(Math.random() * settings.notes));
  return [
    {
      name: 'list',
      label: 'GET /notes?limit=20',
      connections: settings.connections,
      request: (_tenant, token) => ({
        method: 'GET',
        path: '/api/v1/notes?limit=20',
        headers: auth(token),
      }),
      pgbench: `${vars}\n\\set lim 21\n${forPgbench(NOTE_SQL.firstPage, ['tid', 'lim'])}\n`,
    },
    {
      name: 'get',
      label: 'GET /notes/:id',
      connections: settings.connections,
      request: (tenant, token) => ({
        method: 'GET',
        path: `/api/v1/notes/${randomNote(tenant)}`,
        headers: auth(token),
      }),
      pgbench: `${vars}\n\\set one 1\n${forPgbench(NOTE_SQL.byId, ['tid', 'nid', 'one'])}\n`,
    },
    {
      name: 'create',
      label: 'POST /notes',
      connections: settings.connections,
      request: (_tenant, token) => ({
        method: 'POST',
        path: '/api/v1/notes',
        headers: auth(token),
        body: JSON.stringify({ title: 'bench', content: 'A note written by the bench.' }),
      }),
      pgbench: `${vars}\n${forPgbench(NOTE_SQL.insert, ['tid', 'uid', 'title', 'content'])}\n`,
    },
    {
      name: 'update',
      label: 'PATCH /notes/:id',
      connections: settings.connections,
      request: (tenant, token) => ({
        method: 'PATCH',
        path: `/api/v1/notes/${randomNote(tenant)}`,
        headers: auth(token),
        body: JSON.stringify({ content: `Edited by the bench, edit ${(edits += 1)}.` }),
      }),
      pgbench: `${vars}\n${forPgbench(NOTE_SQL.updateContent, ['tid', 'content', 'nid'])}\n`,
    },
    {
      name: 'login',
      label: `POST /auth/login (cost ${settings.bcryptCost})`,
      connections: settings.loginConnections,
      request: (tenant) => ({
        method: 'POST',
        path: '/api/v1/auth/login',
        body: JSON.stringify({ email: tenant.email, password: BENCH_PASSWORD }),
      }),
    },
  ];
}

function measurePgbench(world: World, route: Route, seconds: number): Sample {
  return pgbench(world.db.url, route.pgbench ?? '', {
    clients: route.connections,
    seconds,
    defines: { title: 'bench', content: 'A note written by the bench.' },
  });
}

const fmt = (value: number, digits = 0): string => value.toFixed(digits);

async function runStandard(world: World, service: Server, bare: Server): Promise<void> {
  const all = routes();
  const samples = new Map<string, Sample[]>();
  const record = (route: RouteName, target: string, sample: Sample) => {
    const key = `${route}/${target}`;
    samples.set(key, [...(samples.get(key) ?? []), sample]);
    log(
      `  ${route.padEnd(6)} ${target.padEnd(9)} ${fmt(sample.rps).padStart(6)}/s  p50 ${fmt(sample.p50, 1)} ms  p99 ${fmt(sample.p99, 1)} ms  non-2xx ${sample.non2xx}${sample.non2xx ? ` ${JSON.stringify(sample.failures ?? {})}` : ''}`,
    );
  };
  const measure = async (route: Route, target: Target, seconds: number): Promise<Sample> => {
    if (target === 'pgbench') return measurePgbench(world, route, seconds);
    return measureHttp(world, target === 'service' ? service : bare, route, seconds);
  };
  const targetsOf = (route: Route): Target[] =>
    route.pgbench ? ['service', 'bare', 'pgbench'] : ['service', 'bare'];

  if (settings.warmupSeconds > 0) {
    log(`warm-up: ${settings.warmupSeconds} s per route and target`);
    for (const route of all) {
      for (const target of targetsOf(route)) await measure(route, target, settings.warmupSeconds);
    }
  }
  for (let round = 0; round < settings.rounds; round += 1) {
    log(`round ${round + 1} of ${settings.rounds}`);
    for (const route of all) {
      const targets = targetsOf(route);
      // Rotate who goes first, so no target always gets the warmest or quietest slot.
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      for (const target of order)
        record(route.name, target, await measure(route, target, settings.seconds));
    }
  }

  // Two processes against one, in alternating rounds, on the two hottest routes.
  const scaling: Record<string, { one: Summary; two: Summary; ratio: number }> = {};
  const two = await startService(world, 'service-2p', { WEB_CONCURRENCY: '2' });
  try {
    const pair = { one: service, two };
    if (settings.warmupSeconds > 0) {
      for (const route of all.filter((r) => r.name === 'list' || r.name === 'create')) {
        await measureHttp(world, two, route, settings.warmupSeconds);
      }
    }
    for (const route of all.filter((r) => r.name === 'list' || r.name === 'create')) {
      const runs: Record<'one' | 'two', Sample[]> = { one: [], two: [] };
      for (let round = 0; round < settings.rounds; round += 1) {
        const order: Array<'one' | 'two'> = round % 2 ? ['two', 'one'] : ['one', 'two'];
        for (const which of order) {
          const sample = await measureHttp(world, pair[which], route, settings.seconds);
          runs[which].push(sample);
          record(route.name, which === 'one' ? '1 process' : '2 procs', sample);
        }
      }
      const one = summarize(runs.one);
      const twoSummary = summarize(runs.two);
      scaling[route.name] = { one, two: twoSummary, ratio: twoSummary.rps / one.rps };
    }
  } finally {
    await two.stop();
  }

  const table = all.map((route) => {
    const service = summarize(samples.get(`${route.name}/service`) ?? []);
    const bare = summarize(samples.get(`${route.name}/bare`) ?? []);
    const db = route.pgbench ? summarize(samples.get(`${route.name}/pgbench`) ?? []) : undefined;
    const ratio = service.rps / bare.rps;
    const p99Ratio = service.p99 / bare.p99;
    const throughputTarget = route.name === 'login' ? 0.9 : 0.8;
    return {
      route: route.name,
      label: route.label,
      connections: route.connections,
      service,
      bare,
      pgbench: db,
      ratio,
      ratioPerRound: service.rounds.map((rps, i) => rps / (bare.rounds[i] || 1)),
      p99Ratio,
      ofDatabase: db ? service.rps / db.rps : undefined,
      targets: {
        throughput: { want: `>= ${throughputTarget}x bare`, met: ratio >= throughputTarget },
        p99:
          route.name === 'login' ? undefined : { want: '<= 1.5x bare p99', met: p99Ratio <= 1.5 },
        non2xx: { want: 0, met: service.non2xx === 0 },
      },
    };
  });

  const lines = [
    '',
    `Service vs bare Node vs database — medians of ${settings.rounds} alternating round(s) of ${settings.seconds} s`,
    `${settings.tenants} tenants x ${settings.notes} notes; ${world.db.citus ? `Citus, ${world.db.workers} workers` : 'plain PostgreSQL'}; ${cpus().length} cores`,
    '',
    '| Route | Conns | Service req/s (p50 / p99 ms) | Bare req/s (p50 / p99 ms) | pgbench q/s (p50 / p99 ms) | Service / bare | p99 / bare p99 | Service / DB | non-2xx | Targets |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...table.map((row) => {
      const cell = (s?: Summary) =>
        s ? `${fmt(s.rps)} (${fmt(s.p50, 1)} / ${fmt(s.p99, 1)})` : '—';
      const met = Object.values(row.targets).every((t) => !t || t.met);
      return `| ${row.label} | ${row.connections} | ${cell(row.service)} | ${cell(row.bare)}${row.route === 'login' ? ' bcrypt-only' : ''} | ${cell(row.pgbench)} | ${fmt(row.ratio, 2)}x (${row.ratioPerRound.map((r) => fmt(r, 2)).join(', ')}) | ${row.route === 'login' ? '—' : `${fmt(row.p99Ratio, 2)}x`} | ${row.ofDatabase === undefined ? '—' : `${fmt(row.ofDatabase, 2)}x`} | ${row.service.non2xx} | ${met ? 'met' : 'MISSED'} |`;
    }),
    '',
    ...Object.entries(scaling).map(
      ([route, s]) =>
        `2 processes vs 1 on ${route}: ${fmt(s.two.rps)} vs ${fmt(s.one.rps)} req/s = ${fmt(s.ratio, 2)}x (p99 ${fmt(s.two.p99, 1)} vs ${fmt(s.one.p99, 1)} ms)`,
    ),
  ];
  console.log(lines.join('\n'));
  const file = writeResult(smoke ? 'bench-smoke' : 'bench', {
    mode: smoke ? 'smoke' : 'standard',
    when: new Date().toISOString(),
    machine: machine(world.db),
    settings,
    routes: table,
    processes: scaling,
    allMet: table.every((row) => Object.values(row.targets).every((t) => !t || t.met)),
  });
  log(`result written to ${file}`);
}

async function runProfile(world: World, route: RouteName): Promise<void> {
  const chosen = routes().find((r) => r.name === route);
  if (!chosen)
    throw new Error(
      `--profile=<route>: one of ${routes()
        .map((r) => r.name)
        .join(', ')}`,
    );
  const dir = join(world.resultsDir, 'profiles');
  mkdirSync(dir, { recursive: true });
  const service = await startService(world, 'service-profiled', {}, [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ]);
  try {
    world.tokens = await loginAll(service, world.tenants);
    await measureHttp(world, service, chosen, settings.warmupSeconds || 1);
    const sample = await measureHttp(world, service, chosen, settings.seconds * 2);
    log(
      `${chosen.label}: ${fmt(sample.rps)}/s, p99 ${fmt(sample.p99, 1)} ms, non-2xx ${sample.non2xx}`,
    );
  } finally {
    await service.stop();
  }
  console.log(summarizeProfile(dir));
}

async function main(): Promise<void> {
  const resultsDir = join(RESULTS_DIR, 'run');
  mkdirSync(resultsDir, { recursive: true });
  const db = await benchDatabase({ name: 'bench', fast: smoke, log });
  const mail = await startMailSink({ port: await freePort(), dir: join(resultsDir, 'mail') });
  const servers: Server[] = [];
  try {
    log(`database: ${db.versions.join('; ')}${db.citus ? `; ${db.workers} workers` : ''}`);
    const world: World = {
      db,
      tenants: [],
      tokens: new Map(),
      secret: randomBytes(48).toString('base64url'),
      resultsDir,
      smtpUrl: mail.url,
    };
    if (scaleMode) {
      await runScale(world);
      return;
    }
    if (abuseMode) {
      await runAbuse(world);
      return;
    }
    if (accessCostMode) {
      await runAccessCost(world);
      return;
    }
    log(`seeding ${settings.tenants} tenants x ${settings.notes} notes`);
    world.tenants = await seedWorld(db, settings.tenants, settings.notes);
    if (profileRoute) {
      await runProfile(world, profileRoute as RouteName);
      return;
    }
    const service = await startService(world, 'service');
    servers.push(service);
    const bare = await startBare(world);
    servers.push(bare);
    world.tokens = await loginAll(service, world.tenants);
    await runStandard(world, service, bare);
  } finally {
    for (const server of servers) await server.stop();
    await mail.stop();
    db.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
