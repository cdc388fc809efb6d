/**
 * `npm run bench:login-tenants`: does a login cost the same whether the email is in 1 tenant or
 * in 40? (Issue 9: with one bcrypt check per tenant, 40 squatted tenants made one login take
 * 10.2 s instead of 0.33 s, and an unrelated login 27.6 s while three of those ran.)
 *
 * A throwaway cluster (Citus coordinator + 2 workers when installed, else one PostgreSQL; or
 * BENCH_DATABASE_URL) with PostgreSQL's durable defaults, and the built service (dist/) in
 * production settings with BCRYPT_COST 12. Seeded: one verified account in 1 tenant (`single`),
 * one verified account that is a member of 40 tenants (`forty`), and bystanders in 1 tenant each.
 *
 *  1. Sequential logins, one in flight, lanes interleaved round by round so a noisy machine hurts
 *     all alike: `single`; `forty` naming its tenant (200); `forty` without a tenant (409, the
 *     tenant choice, after the password check). Reported: median latency per lane and the ratio
 *     to `single` (issue 9 wants <= 1.5x).
 *  2. Neighbours: a bystander's login latency while 3 clients log in back to back as `forty`,
 *     against the same while 3 clients log in as 1-tenant accounts.
 *  3. For scale, in this process: what one login cost when every tenant's hash was checked
 *     (40 bcrypt compares, as the old code ran them) against one compare.
 *
 * Settings: BENCH_LOGINS (20 per lane and round), BENCH_ROUNDS (3), BENCH_TENANTS_PER_EMAIL (40),
 * BENCH_DATABASE_URL, BENCH_KEEP_DB=1, BENCH_OUT.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as bcrypt from 'bcrypt';
import { Client } from 'pg';
import { freePort } from '../test/harness/test-database';
import { startMailSink } from '../tools/mail/sink';
import { benchDatabase, RESULTS_DIR } from './database';
import { Server, serviceEntry, startServer } from './processes';
import { BENCH_PASSWORD, clearBenchRows, emailOf, seedTenants, tenantId, userId } from './seed';
import { machine, median, writeResult } from './world';

const log = (message: string): void => {
  process.stdout.write(`[login-tenants] ${message}\n`);
};

const LOGINS = Number(process.env.BENCH_LOGINS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PER_EMAIL = Number(process.env.BENCH_TENANTS_PER_EMAIL ?? 40);
const COST = 12;
const FORTY_EMAIL = 'bench-forty@bench.example';
/** Tenant 0 is `single`'s; tenants 1..PER_EMAIL are `forty`'s; the rest are bystanders'. */
const BYSTANDERS = 4;

type Lane = 'single' | 'forty (tenant named)' | 'forty (tenant choice)';

interface Login {
  email: string;
  tenant?: string;
  expect: number;
}

const LANES: Record<Lane, Login> = {
  single: { email: emailOf(0), expect: 200 },
  'forty (tenant named)': { email: FORTY_EMAIL, tenant: tenantId(PER_EMAIL), expect: 200 },
  'forty (tenant choice)': { email: FORTY_EMAIL, expect: 409 },
};

const bystander = (i: number): string => emailOf(PER_EMAIL + 1 + i);

/** Moves the owners of tenants 1..PER_EMAIL onto one account, as 40 memberships of one email. */
async function seed(client: Client, hash: string): Promise<void> {
  await clearBenchRows(client);
  await seedTenants(client, 0, PER_EMAIL + 1 + BYSTANDERS, hash);
  const forty = Array.from({ length: PER_EMAIL }, (_, i) => i + 1);
  const emails = forty.map(emailOf);
  // login_directory and accounts are distributed by email: rows move by delete + insert.
  await client.query(`DELETE FROM login_directory WHERE email = ANY($1)`, [emails]);
  await client.query(`DELETE FROM accounts WHERE email = ANY($1)`, [emails]);
  await client.query(
    `INSERT INTO accounts (email, password_hash, email_verified_at) VALUES ($1, $2, now())`,
    [FORTY_EMAIL, hash],
  );
  for (const i of forty) {
    await client.query(`UPDATE users SET email = $1 WHERE tenant_id = $2 AND id = $3`, [
      FORTY_EMAIL,
      tenantId(i),
      userId(i),
    ]);
  }
  await client.query(
    `INSERT INTO login_directory (email, tenant_id, user_id)
     SELECT $1, t, u FROM unnest($2::bigint[], $3::bigint[]) AS m(t, u)`,
    [FORTY_EMAIL, forty.map(tenantId), forty.map(userId)],
  );
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM login_directory WHERE email = $1`,
    [FORTY_EMAIL],
  );
  if (Number(rows[0].n) !== PER_EMAIL) throw new Error(`seeded ${rows[0].n} memberships`);
}

/** One login; returns its latency in ms and fails on an unexpected status. */
async function login(service: Server, body: Login): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${service.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: body.email, password: BENCH_PASSWORD, tenant: body.tenant }),
  });
  await response.arrayBuffer();
  const elapsed = performance.now() - started;
  if (response.status !== body.expect) {
    throw new Error(`login of ${body.email} answered ${response.status}, not ${body.expect}`);
  }
  return elapsed;
}

async function sequential(service: Server, body: Login, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) times.push(await login(service, body));
  return times;
}

/** The bystander's latencies while `others` log in back to back, one in flight each. */
async function underLoad(service: Server, others: Login[], count: number): Promise<number[]> {
  let running = true;
  const background = others.map(async (body) => {
    while (running) await login(service, body);
  });
  try {
    await login(service, LANES.single); // let the background reach its pace
    return await sequential(service, { email: bystander(0), expect: 200 }, count);
  } finally {
    running = false;
    await Promise.all(background);
  }
}

async function inProcessBcrypt(hash: string): Promise<{ one: number; forty: number }> {
  const time = async (compares: number): Promise<number> => {
    const started = performance.now();
    await Promise.all(Array.from({ length: compares }, () => bcrypt.compare(BENCH_PASSWORD, hash)));
    return performance.now() - started;
  };
  const one: number[] = [];
  const forty: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    one.push(await time(1));
    forty.push(await time(PER_EMAIL));
  }
  return { one: median(one), forty: median(forty) };
}

const fmt = (value: number, digits = 0): string => value.toFixed(digits);

async function main(): Promise<void> {
  const db = await benchDatabase({ name: 'login-tenants', fast: false, log });
  const sink = await startMailSink({
    port: await freePort(),
    dir: mkdtempSync(join(tmpdir(), 'login-tenants-mail-')),
  });
  let service: Server | undefined;
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    log(`database: ${db.versions.join('; ')}; ${db.workers} workers`);
    const hash = await bcrypt.hash(BENCH_PASSWORD, COST);
    await seed(client, hash);
    service = await startServer({
      name: 'service',
      entry: serviceEntry(false),
      logFile: join(RESULTS_DIR, 'login-tenants-service.log'),
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        JWT_SECRET: randomBytes(32).toString('hex'),
        BCRYPT_COST: String(COST),
        SMTP_URL: sink.url,
        AUTH_RATE_LIMIT_PER_IP: '1000000',
        AUTH_RATE_LIMIT_PER_EMAIL: '1000000',
        SHUTDOWN_DELAY_MS: '0',
        LOG_LEVEL: 'warn',
      },
    });
    const svc = service;
    for (const body of Object.values(LANES)) await sequential(svc, body, 2); // warm-up

    const samples = new Map<Lane, number[]>();
    const perRound = new Map<Lane, number[]>();
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [lane, body] of Object.entries(LANES) as Array<[Lane, Login]>) {
        const times = await sequential(svc, body, LOGINS);
        samples.set(lane, [...(samples.get(lane) ?? []), ...times]);
        perRound.set(lane, [...(perRound.get(lane) ?? []), median(times)]);
      }
      log(`round ${round + 1}/${ROUNDS} done`);
    }
    const single = median(samples.get('single') ?? []);
    const lanes = (Object.keys(LANES) as Lane[]).map((lane) => {
      const p50 = median(samples.get(lane) ?? []);
      return { lane, logins: samples.get(lane)?.length ?? 0, p50, ratio: p50 / single };
    });
    const roundRatios = (lane: Lane) =>
      (perRound.get(lane) ?? []).map((value, i) => value / (perRound.get('single') ?? [])[i]);

    const oneTenantAttackers = [1, 2, 3].map((i) => ({ email: bystander(i), expect: 200 }));
    const fortyAttackers = [0, 1, 2].map(() => LANES['forty (tenant choice)']);
    const quiet: number[] = [];
    const nextToForty: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      quiet.push(median(await underLoad(svc, oneTenantAttackers, LOGINS / 2)));
      nextToForty.push(median(await underLoad(svc, fortyAttackers, LOGINS / 2)));
    }
    const neighbours = {
      nextToOneTenantLogins: median(quiet),
      nextToFortyTenantLogins: median(nextToForty),
      ratio: median(nextToForty) / median(quiet),
    };

    const old = await inProcessBcrypt(hash);

    const met = lanes.every((row) => row.ratio <= 1.5) && neighbours.ratio <= 1.5;
    const result = {
      when: new Date().toISOString(),
      machine: machine(db),
      settings: { logins: LOGINS, rounds: ROUNDS, tenantsPerEmail: PER_EMAIL, bcryptCost: COST },
      lanes: lanes.map((row) => ({ ...row, perRound: roundRatios(row.lane) })),
      neighbours,
      inProcessBcrypt: old,
      target: '<= 1.5x of the 1-tenant login',
      met,
    };
    const file = writeResult('login-tenants', result);
    console.log('');
    console.log(
      `Login latency, BCRYPT_COST ${COST}, ${PER_EMAIL} tenants per email, ` +
        `${ROUNDS} rounds x ${LOGINS} logins per lane (medians):`,
    );
    console.log('| login | p50 ms | vs 1 tenant | per round |');
    console.log('|---|---|---|---|');
    for (const row of lanes) {
      const rounds = roundRatios(row.lane)
        .map((r) => fmt(r, 2))
        .join(', ');
      console.log(`| ${row.lane} | ${fmt(row.p50)} | ${fmt(row.ratio, 2)}x | ${rounds} |`);
    }
    console.log(
      `A bystander's login while 3 clients log in back to back: next to 1-tenant logins ` +
        `${fmt(neighbours.nextToOneTenantLogins)} ms, next to ${PER_EMAIL}-tenant logins ` +
        `${fmt(neighbours.nextToFortyTenantLogins)} ms (${fmt(neighbours.ratio, 2)}x).`,
    );
    console.log(
      `One bcrypt per tenant, as before (in this process): 1 compare ${fmt(old.one)} ms, ` +
        `${PER_EMAIL} compares ${fmt(old.forty)} ms (${fmt(old.forty / old.one, 1)}x).`,
    );
    console.log(`Target <= 1.5x: ${met ? 'met' : 'MISSED'}. Result: ${file}`);
    if (!met) process.exitCode = 1;
  } finally {
    await service?.stop();
    await client.end();
    await sink.stop();
    db.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
