/**
 * `npm run bench -- --scale`: does the service stay as fast as the data grows?
 *
 * Registration: throughput on an empty database against one holding 10,000 tenants, in
 * alternating rounds (the 10,000 tenants are seeded before and removed after each such round).
 * Notes: 10,000 tenants; 20 "hot" tenants hold 500 notes each (10,000 notes in all: phase A),
 * then grow to 20,000 each while every other tenant gets 60 (about 1,000,000 notes: phase B),
 * then shrink back (phase A again, so drift of the machine shows). Measured in each phase: the
 * first page and a deep page (a cursor in the middle of the tenant's notes) of GET /notes, for
 * the service and, as a control for the machine itself, the bare server.
 *
 * Registration runs at bcrypt cost 4: at cost 12 one hash is ~0.25 s of CPU and would hide any
 * cost of the database behind it. BENCH_SCALE_TENANTS / BENCH_SCALE_NOTES change the sizes.
 */
import { randomBytes } from 'node:crypto';
import * as bcrypt from 'bcrypt';
import { Client } from 'pg';
import { httpLoad, pick, Sample } from './load';
import { Server } from './processes';
import {
  analyze,
  BENCH_PASSWORD,
  BenchTenant,
  clearBenchRows,
  emailOf,
  NOTE_BASE,
  NOTE_STRIDE,
  noteId,
  seedNotes,
  seedTenants,
  TENANT_BASE,
  tenantId,
  userId,
} from './seed';
import {
  log,
  loginAll,
  machine,
  median,
  settings,
  smoke,
  startBare,
  startService,
  Summary,
  summarize,
  World,
  writeResult,
} from './world';

const TENANTS = Number(process.env.BENCH_SCALE_TENANTS ?? (smoke ? 200 : 10_000));
const TOTAL_NOTES = Number(process.env.BENCH_SCALE_NOTES ?? (smoke ? 20_000 : 1_000_000));
const HOT = Math.min(20, TENANTS);
const HOT_SMALL = smoke ? 50 : 500;
const HOT_LARGE = Math.floor((TOTAL_NOTES * 0.4) / HOT);
const COLD_NOTES = Math.floor((TOTAL_NOTES - HOT * HOT_LARGE) / Math.max(1, TENANTS - HOT));
const REGISTRATION_CONNECTIONS = 8;

const fmt = (value: number, digits = 0): string => value.toFixed(digits);

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function runScale(world: World): Promise<void> {
  const run = randomBytes(3).toString('hex');
  const env = { BCRYPT_COST: '4', NODE_ENV: 'test' };
  const service = await startService(world, 'service-scale', env);
  let bare: Server | undefined;
  try {
    const hash = await bcrypt.hash(BENCH_PASSWORD, 4);
    const registration = await measureRegistration(world, service, run, hash);

    log(`seeding ${TENANTS} tenants; ${HOT} hot tenants get ${HOT_SMALL} notes each`);
    await withClient(world.db.url, async (client) => {
      await clearBenchRows(client);
      await seedTenants(client, 0, TENANTS, hash);
      await seedNotes(client, { from: 0, to: HOT }, { fromK: 1, toK: HOT_SMALL });
      await analyze(client);
    });
    world.tenants = Array.from({ length: HOT }, (_, index): BenchTenant => ({
      index,
      id: tenantId(index),
      userId: userId(index),
      email: emailOf(index),
      notes: HOT_SMALL,
    }));
    world.tokens = await loginAll(service, world.tenants);
    bare = await startBare(world);
    const servers = { service, bare };

    const phases: Array<{
      name: string;
      notes: number;
      pages: Record<string, Record<string, Sample[]>>;
    }> = [];
    const measurePhase = async (name: string, deepK: number) => {
      const notes = await withClient(world.db.url, async (client) =>
        Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM notes')).rows[0].n),
      );
      log(`phase ${name}: ${notes} notes in the database; deep cursor at note ${deepK}`);
      const pages: Record<string, Record<string, Sample[]>> = { first: {}, deep: {} };
      const warmup = Math.max(1, settings.warmupSeconds);
      for (let round = -1; round < settings.rounds; round += 1) {
        for (const page of ['first', 'deep'] as const) {
          const order = round % 2 ? (['bare', 'service'] as const) : (['service', 'bare'] as const);
          for (const target of order) {
            const sample = await httpLoad(
              servers[target].url,
              // Round -1 warms both servers up on this phase's data and is not counted.
              { connections: settings.connections, seconds: round < 0 ? warmup : settings.seconds },
              () => {
                const tenant = pick(world.tenants);
                const cursor = page === 'deep' ? `&cursor=${noteId(tenant.index, deepK)}` : '';
                return {
                  method: 'GET',
                  path: `/api/v1/notes?limit=20${cursor}`,
                  headers: { authorization: `Bearer ${world.tokens.get(tenant.id) ?? ''}` },
                };
              },
            );
            if (round < 0) continue;
            (pages[page][target] ??= []).push(sample);
            log(
              `  ${page.padEnd(5)} ${target.padEnd(7)} ${fmt(sample.rps).padStart(6)}/s  p50 ${fmt(sample.p50, 1)} ms  p99 ${fmt(sample.p99, 1)} ms  non-2xx ${sample.non2xx}`,
            );
          }
        }
      }
      phases.push({ name, notes, pages });
    };

    await measurePhase('A (small)', Math.ceil(HOT_SMALL / 2));
    log(`growing: hot tenants to ${HOT_LARGE} notes, ${TENANTS - HOT} others to ${COLD_NOTES}`);
    await withClient(world.db.url, async (client) => {
      await seedNotes(client, { from: 0, to: HOT }, { fromK: HOT_SMALL + 1, toK: HOT_LARGE }, log);
      await seedNotes(client, { from: HOT, to: TENANTS }, { fromK: 1, toK: COLD_NOTES }, log);
      await analyze(client);
    });
    await measurePhase('B (large)', Math.ceil(HOT_LARGE / 2));
    log('shrinking back to phase A');
    await withClient(world.db.url, async (client) => {
      await client.query(
        `DELETE FROM notes WHERE tenant_id >= $1::bigint AND tenant_id < $1::bigint + $2::int
           AND id - $3::bigint - (tenant_id - $1::bigint) * $4::bigint > $5::int`,
        [TENANT_BASE, HOT, NOTE_BASE, NOTE_STRIDE, HOT_SMALL],
      );
      await client.query(
        `DELETE FROM notes WHERE tenant_id >= $1::bigint + $2::int AND tenant_id < $1::bigint + $3::int`,
        [TENANT_BASE, HOT, TENANTS],
      );
      await client.query('VACUUM ANALYZE notes');
    });
    await measurePhase('A again', Math.ceil(HOT_SMALL / 2));

    const pageSummary = (page: string, target: string) => {
      const small = summarize(
        phases.filter((p) => p.name.startsWith('A')).flatMap((p) => p.pages[page][target] ?? []),
      );
      const large = summarize(
        phases.find((p) => p.name.startsWith('B'))?.pages[page][target] ?? [],
      );
      return {
        small,
        large,
        throughputRatio: small.rps / large.rps,
        p50Ratio: large.p50 / small.p50,
      };
    };
    const pages = Object.fromEntries(
      ['first', 'deep'].map((page) => [
        page,
        { service: pageSummary(page, 'service'), bare: pageSummary(page, 'bare') },
      ]),
    );
    const bigPhase = phases.find((p) => p.name.startsWith('B'));
    const lines = [
      '',
      `Scale: ${TENANTS} tenants; GET /notes at ${phases[0].notes} notes (A, measured before and after) vs ${bigPhase?.notes} notes (B)`,
      '',
      '| Page | Service at A req/s (p50 ms) | Service at B req/s (p50 ms) | A / B throughput | B / A p50 | Bare A / B (control) | Target (<= 1.2x) |',
      '|---|---|---|---|---|---|---|',
      ...Object.entries(pages).map(([page, s]) => {
        const cell = (x: Summary) => `${fmt(x.rps)} (${fmt(x.p50, 1)})`;
        const worst = Math.max(s.service.throughputRatio, s.service.p50Ratio);
        return `| ${page} | ${cell(s.service.small)} | ${cell(s.service.large)} | ${fmt(s.service.throughputRatio, 2)}x | ${fmt(s.service.p50Ratio, 2)}x | ${fmt(s.bare.throughputRatio, 2)}x | ${worst <= 1.2 ? 'met' : 'MISSED'} |`;
      }),
      '',
      `Registration (bcrypt cost 4, ${REGISTRATION_CONNECTIONS} connections): ${fmt(registration.empty.rps)}/s on an empty database, ${fmt(registration.full.rps)}/s at ${TENANTS} tenants; empty / full = ${fmt(registration.ratio, 2)}x (target <= 1.5x: ${registration.ratio <= 1.5 ? 'met' : 'MISSED'}); non-2xx ${registration.empty.non2xx + registration.full.non2xx}`,
    ];
    console.log(lines.join('\n'));
    const file = writeResult(smoke ? 'bench-scale-smoke' : 'bench-scale', {
      mode: 'scale',
      when: new Date().toISOString(),
      machine: machine(world.db),
      settings: {
        ...settings,
        tenants: TENANTS,
        hot: HOT,
        hotSmall: HOT_SMALL,
        hotLarge: HOT_LARGE,
        coldNotes: COLD_NOTES,
      },
      phases: phases.map((p) => ({
        name: p.name,
        notes: p.notes,
        pages: Object.fromEntries(
          Object.entries(p.pages).map(([page, targets]) => [
            page,
            Object.fromEntries(Object.entries(targets).map(([t, s]) => [t, summarize(s)])),
          ]),
        ),
      })),
      pages,
      registration,
    });
    log(`result written to ${file}`);
  } finally {
    await bare?.stop();
    await service.stop();
  }
}

/** Registrations/s on an empty database and at TENANTS tenants, in alternating rounds. */
async function measureRegistration(
  world: World,
  service: Server,
  run: string,
  hash: string,
): Promise<{ empty: Summary; full: Summary; ratio: number }> {
  let counter = 0;
  const samples: Record<'empty' | 'full', Sample[]> = { empty: [], full: [] };
  const clearRegistrations = () =>
    withClient(world.db.url, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        `SELECT id FROM tenants WHERE name LIKE $1`,
        [`Scale ${run} %`],
      );
      const ids = rows.map((row) => row.id);
      await client.query(`DELETE FROM login_directory WHERE email LIKE $1`, [`scale-${run}-%`]);
      await client.query(`DELETE FROM email_tokens WHERE email LIKE $1`, [`scale-${run}-%`]);
      await client.query(`DELETE FROM accounts WHERE email LIKE $1`, [`scale-${run}-%`]);
      await client.query(`DELETE FROM users WHERE tenant_id = ANY($1::bigint[])`, [ids]);
      await client.query(`DELETE FROM tenants WHERE id = ANY($1::bigint[])`, [ids]);
    });
  const register = () => {
    counter += 1;
    return {
      method: 'POST' as const,
      path: '/api/v1/auth/register',
      body: JSON.stringify({
        tenantName: `Scale ${run} ${counter}`,
        username: `s${run}-${counter}`,
        email: `scale-${run}-${counter}@bench.example`,
        password: BENCH_PASSWORD,
      }),
    };
  };
  // Not counted: the service's first registrations warm its code and connections up.
  await httpLoad(
    service.url,
    { connections: REGISTRATION_CONNECTIONS, seconds: Math.max(2, settings.warmupSeconds) },
    register,
  );
  await clearRegistrations();
  for (let round = 0; round < settings.rounds; round += 1) {
    const order: Array<'empty' | 'full'> = round % 2 ? ['full', 'empty'] : ['empty', 'full'];
    for (const state of order) {
      await withClient(world.db.url, async (client) => {
        await clearBenchRows(client);
        if (state === 'full') {
          await seedTenants(client, 0, TENANTS, hash);
          await analyze(client);
        }
      });
      const sample = await httpLoad(
        service.url,
        { connections: REGISTRATION_CONNECTIONS, seconds: settings.seconds },
        register,
      );
      samples[state].push(sample);
      log(
        `  register at ${state === 'empty' ? 'empty' : `${TENANTS} tenants`}: ${fmt(sample.rps)}/s  p50 ${fmt(sample.p50, 1)} ms  p99 ${fmt(sample.p99, 1)} ms  non-2xx ${sample.non2xx}`,
      );
      await clearRegistrations();
    }
  }
  const empty = summarize(samples.empty);
  const full = summarize(samples.full);
  return { empty, full, ratio: median(samples.empty.map((s) => s.rps)) / full.rps };
}
