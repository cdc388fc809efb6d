import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as bcrypt from 'bcrypt';
import { Client } from 'pg';
import { BenchDatabase, RESULTS_DIR } from './database';
import { httpLoad, RequestSpec, Sample } from './load';
import { Server, serviceEntry, startServer } from './processes';
import {
  analyze,
  BENCH_PASSWORD,
  BenchTenant,
  clearBenchRows,
  emailOf,
  seedNotes,
  seedTenants,
  tenantId,
  userId,
} from './seed';

/** What every bench mode shares: settings, the processes under test, seeding, sampling. */
const argv = process.argv.slice(2);
export const smoke = argv.includes('--smoke');
export const scaleMode = argv.includes('--scale');
export const abuseMode = argv.includes('--abuse');
export const accessCostMode = argv.includes('--access-cost');
export const profileRoute = argv.find((arg) => arg.startsWith('--profile'))?.split('=')[1];

function setting(name: string, normal: number, quick: number): number {
  const raw = process.env[name];
  return raw ? Number(raw) : smoke ? quick : normal;
}

export const settings = {
  rounds: setting('BENCH_ROUNDS', 3, 1),
  seconds: setting('BENCH_SECONDS', 10, 1),
  warmupSeconds: setting('BENCH_WARMUP_SECONDS', 3, 0),
  connections: setting('BENCH_CONNECTIONS', 32, 8),
  loginConnections: setting('BENCH_LOGIN_CONNECTIONS', 8, 4),
  tenants: setting('BENCH_TENANTS', 20, 2),
  notes: setting('BENCH_NOTES', 500, 20),
  bcryptCost: setting('BENCH_BCRYPT_COST', 12, 4),
};

export const log = (message: string): void => {
  process.stdout.write(`[bench] ${message}\n`);
};

export type Target = 'service' | 'bare' | 'pgbench';
export type RouteName = 'list' | 'get' | 'create' | 'update' | 'login';

export interface Route {
  name: RouteName;
  label: string;
  connections: number;
  request: (tenant: BenchTenant, token: string) => RequestSpec;
  /** The same statement for pgbench; login has none (its baseline is bcrypt-only). */
  pgbench?: string;
}

export interface World {
  db: BenchDatabase;
  /** The local mail sink the service sends verification mails to. */
  smtpUrl: string;
  tenants: BenchTenant[];
  tokens: Map<string, string>;
  secret: string;
  resultsDir: string;
}

const SMOKE_GUARDS_OFF = {
  SHED_EVENT_LOOP_LAG_MS: '0',
  SHED_POOL_WAITING: '0',
  SHED_MAX_IN_FLIGHT: '0',
  TENANT_RATE_LIMIT_PER_SECOND: '0',
  TENANT_CONCURRENCY: '0',
};

export function serviceEnv(
  world: World,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    // Production refuses a bcrypt cost under 12; the smoke run's cost 4 needs the test profile.
    NODE_ENV: settings.bcryptCost >= 12 ? 'production' : 'test',
    DATABASE_URL: world.db.url,
    JWT_SECRET: world.secret,
    BCRYPT_COST: String(settings.bcryptCost),
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    SMTP_URL: world.smtpUrl,
    // One token per tenant for the whole run: clients would refresh every few minutes instead.
    JWT_TTL_SECONDS: '3600',
    SHUTDOWN_DELAY_MS: '0',
    // Every request comes from 127.0.0.1 and a handful of emails: the limits would measure
    // themselves, not the service.
    AUTH_RATE_LIMIT_PER_IP: '1000000',
    AUTH_RATE_LIMIT_PER_EMAIL: '1000000',
    // The smoke run shares a 2-core machine with the rest of the test suite: the load guards
    // would shed or hold its requests for other processes' load (a CI run saw 155 of them).
    // Measuring runs (and the abuse run, which measures the guards) keep them on.
    ...(smoke && !abuseMode ? SMOKE_GUARDS_OFF : {}),
    ...extra,
  };
}

export function startService(
  world: World,
  name: string,
  extra: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<Server> {
  return startServer({
    name,
    entry: serviceEntry(smoke),
    env: serviceEnv(world, extra),
    logFile: join(world.resultsDir, `${name}.log`),
    nodeArgs,
  });
}

export function startBare(world: World, nodeArgs: string[] = []): Promise<Server> {
  return startServer({
    nodeArgs,
    name: 'bare',
    entry: 'bench/bare-server.ts',
    env: {
      DATABASE_URL: world.db.url,
      JWT_SECRET: world.secret,
      BCRYPT_COST: String(settings.bcryptCost),
      BARE_LOGIN_PASSWORD: BENCH_PASSWORD,
    },
    logFile: join(world.resultsDir, 'bare.log'),
  });
}

export async function seedWorld(
  db: BenchDatabase,
  count: number,
  notes: number,
): Promise<BenchTenant[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    await clearBenchRows(client);
    const hash = await bcrypt.hash(BENCH_PASSWORD, settings.bcryptCost);
    await seedTenants(client, 0, count, hash);
    await seedNotes(client, { from: 0, to: count }, { fromK: 1, toK: notes });
    await analyze(client);
  } finally {
    await client.end();
  }
  return Array.from({ length: count }, (_, index) => ({
    index,
    id: tenantId(index),
    userId: userId(index),
    email: emailOf(index),
    notes,
  }));
}

/** Tokens come from the service's own login, so every target sees exactly what clients get. */
export async function loginAll(
  service: Server,
  tenants: BenchTenant[],
): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const tenant of tenants) {
    const response = await fetch(`${service.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: tenant.email, password: BENCH_PASSWORD }),
    });
    if (response.status !== 200) {
      throw new Error(
        `login of ${tenant.email} answered ${response.status}: ${await response.text()}`,
      );
    }
    tokens.set(tenant.id, ((await response.json()) as { accessToken: string }).accessToken);
  }
  return tokens;
}

export function measureHttp(
  world: World,
  server: Server,
  route: Route,
  seconds: number,
): Promise<Sample> {
  const tenantOf = stickyTenants(world);
  return httpLoad(server.url, { connections: route.connections, seconds }, (client) => {
    const tenant = tenantOf(client);
    return route.request(tenant, world.tokens.get(tenant.id) ?? '');
  });
}

/**
 * Each connection speaks for one tenant, the tenants dealt out in turn, as clients belong to
 * their organisation: with more tenants than connections no tenant has two requests in flight,
 * so the tenants' budgets (TENANT_CONCURRENCY) measure nothing here.
 */
export function stickyTenants(world: World): (client: Record<string, unknown>) => BenchTenant {
  let dealt = 0;
  return (client) => {
    if (!client.tenant) client.tenant = world.tenants[dealt++ % world.tenants.length];
    return client.tenant as BenchTenant;
  };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export interface Summary {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Failures by HTTP status (and connection errors, timeouts), summed over the rounds. */
  failures: Record<string, number>;
  rounds: number[];
}

export function summarize(samples: Sample[]): Summary {
  return {
    rps: median(samples.map((s) => s.rps)),
    p50: median(samples.map((s) => s.p50)),
    p99: median(samples.map((s) => s.p99)),
    non2xx: samples.reduce((sum, s) => sum + s.non2xx, 0),
    failures: samples.reduce<Record<string, number>>((sum, s) => {
      for (const [kind, count] of Object.entries(s.failures ?? {})) {
        sum[kind] = (sum[kind] ?? 0) + count;
      }
      return sum;
    }, {}),
    rounds: samples.map((s) => Math.round(s.rps)),
  };
}

export function machine(db: BenchDatabase): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    database: db.versions,
    citus: db.citus,
    workers: db.workers,
  };
}

export function writeResult(name: string, result: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file =
    process.env.BENCH_OUT ??
    join(RESULTS_DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  return file;
}
