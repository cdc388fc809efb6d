import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Pool } from 'pg';
import request from 'supertest';
import { AppModule } from '../../src/app.module';
import { loadConfig } from '../../src/config/app-config';
import { configureApp } from '../../src/http/configure-app';
import { createHttpAdapter } from '../../src/http/http-adapter';
import { LOG_DESTINATION } from '../../src/logging/logging.module';
import { DestinationStream } from 'pino';
import { citusAvailable, findPgBinDir } from '../../tools/db/local-cluster';
import { LOAD_GUARDS_OFF } from './load-guards';
import { latestToken } from './mail';

export const citusMode = process.env.E2E_CITUS === '1';

/** Citus-only blocks: named with [citus] so skips are counted by the summary reporter. */
export const describeCitus: jest.Describe = citusMode ? describe : describe.skip;

/** Needs a coordinator with two or more workers (a single-node container has none). */
export const describeCitusCluster: jest.Describe =
  citusMode && Number(process.env.E2E_CITUS_WORKERS) >= 2 ? describe : describe.skip;

/** The Redis global setup started (or TEST_REDIS_URL), when there is one. */
export const redisUrl = process.env.E2E_REDIS_URL;
/** A redis-server binary, for specs that start, stop or freeze a Redis of their own. */
export const redisServerBin = process.env.E2E_REDIS_SERVER_BIN;

/** Blocks that need Redis: named with [redis] so skips are counted by the summary reporter. */
export const describeRedis: jest.Describe = redisUrl ? describe : describe.skip;
/** Blocks that need a redis-server binary of their own (outages): [redis] too. */
export const describeRedisServer: jest.Describe = redisServerBin ? describe : describe.skip;

/** Debian's Chromium, found by the global setup (test/harness/web-build.ts). */
export const chromiumBin = process.env.E2E_CHROMIUM_BIN;
/** Blocks that drive a browser: named with [browser] so skips are counted by the summary reporter. */
export const describeBrowser: jest.Describe = chromiumBin ? describe : describe.skip;

/**
 * Needs Citus and the local server binaries with the extension, to start a cluster of the spec's
 * own (specs that stop nodes or change the cluster's shape must not do it to the shared one).
 */
export const describeLocalCitus: jest.Describe =
  citusMode && localCitusBinaries() ? describe : describe.skip;

function localCitusBinaries(): boolean {
  try {
    return citusAvailable(findPgBinDir());
  } catch {
    return false;
  }
}

export const TEST_JWT = {
  secret: 'e2e-secret-that-is-long-enough-for-the-config-check',
  issuer: 'notes-service',
  audience: 'notes-api',
};

export type Http = ReturnType<typeof request>;

/** Created at start-up by the bootstrap (ADMIN_EMAIL / ADMIN_PASSWORD) of whichever app boots first. */
export const OPERATOR = { email: 'ops@example.com', password: 'operator password for e2e' };

export async function operatorToken(http: () => Http): Promise<string> {
  const response = await http().post('/api/v1/admin/auth/login').send(OPERATOR).expect(200);
  return response.body.accessToken as string;
}

let lastOverrides: string[] = [];

/** Boots the real AppModule against the e2e database, configured exactly like main.ts. */
export async function createTestApp(
  env: Record<string, string> = {},
  logDestination?: DestinationStream,
): Promise<{ app: INestApplication; http: () => Http }> {
  const appUrl = process.env.E2E_APP_DATABASE_URL;
  if (!appUrl) throw new Error('E2E_APP_DATABASE_URL is missing: run e2e specs through jest');
  // A spec's settings for one app must not carry over to the next app of the same file.
  for (const name of lastOverrides) delete process.env[name];
  lastOverrides = Object.keys(env);
  Object.assign(process.env, {
    NODE_ENV: 'test',
    DATABASE_URL: appUrl,
    JWT_SECRET: TEST_JWT.secret,
    JWT_ISSUER: TEST_JWT.issuer,
    JWT_AUDIENCE: TEST_JWT.audience,
    BCRYPT_COST: '4',
    DB_POOL_SIZE: '5',
    // Operator endpoints span shards by design, so they get the unguarded connection.
    ADMIN_DATABASE_URL: process.env.E2E_DATABASE_URL ?? appUrl,
    ADMIN_EMAIL: OPERATOR.email,
    ADMIN_PASSWORD: OPERATOR.password,
    // Every spec signs up many users from 127.0.0.1; the rate-limit spec sets its own limits.
    AUTH_RATE_LIMIT_PER_IP: '1000000',
    AUTH_RATE_LIMIT_PER_EMAIL: '1000000',
    LOG_LEVEL: 'silent',
    CORS_ORIGINS: '',
    SMTP_URL: process.env.E2E_SMTP_URL ?? '',
    TRUST_PROXY: 'false',
    // In memory unless a spec asks for Redis (blank counts as unset).
    REDIS_URL: '',
    ...LOAD_GUARDS_OFF,
    // Apps run side by side and would contend for one metrics port; the metrics spec turns it on.
    METRICS_ENABLED: 'false',
    ...env,
  });
  const builder = Test.createTestingModule({ imports: [AppModule] });
  if (logDestination) builder.overrideProvider(LOG_DESTINATION).useValue(logDestination);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createHttpAdapter(loadConfig()),
    { bodyParser: false, logger: ['error', 'warn'] },
  );
  configureApp(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const server = app.getHttpServer() as Parameters<typeof request>[0];
  return { app, http: () => request(server) };
}

/** A superuser pool for ground truth: never the app's connection, never through the API. */
export function groundTruthPool(): Pool {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error('E2E_DATABASE_URL is missing: run e2e specs through jest');
  return new Pool({ connectionString: url, max: 3 });
}

export interface TestContext {
  app: INestApplication;
  http: () => Http;
  /** Superuser pool for ground truth, bypassing the API. */
  db: Pool;
}

/**
 * Boots the app and a ground-truth pool for the enclosing describe block and closes both after it.
 * The fields are filled in by the time the block's own beforeAll hooks and tests run.
 */
export function useTestApp(
  env: Record<string, string> = {},
  logDestination?: DestinationStream,
): TestContext {
  const context = {} as TestContext;
  beforeAll(async () => {
    const { app, http } = await createTestApp(env, logDestination);
    Object.assign(context, { app, http, db: groundTruthPool() });
  });
  afterAll(async () => {
    await context.app?.close();
    await context.db?.end();
  });
  return context;
}

export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface Member {
  tenant: { id: string; name: string };
  user: { id: string; username: string; email: string; role: string };
  email: string;
  password: string;
  token: string;
}

export const PASSWORD = 'correct horse battery';

export async function login(
  http: () => Http,
  email: string,
  password = PASSWORD,
  tenant?: string,
): Promise<string> {
  const response = await http()
    .post('/api/v1/auth/login')
    .send({ email, password, ...(tenant ? { tenant } : {}) })
    .expect(200);
  return response.body.accessToken as string;
}

/** Confirms the email with the token the sink received for it. */
export async function verifyEmail(http: () => Http, email: string): Promise<void> {
  await http()
    .post('/api/v1/auth/verify-email')
    .send({ token: latestToken(email, 'Confirm your email') })
    .expect(200);
}

/** Registers a new tenant (or joins one with an invite code) and logs in. */
export async function register(
  http: () => Http,
  options: { tenantName?: string; email?: string; username?: string; inviteCode?: string } = {},
): Promise<Member> {
  const email = options.email ?? `${unique('user')}@example.com`;
  const body = {
    tenantName: options.tenantName ?? unique('Tenant'),
    username: options.username ?? unique('user'),
    email,
    password: PASSWORD,
    ...(options.inviteCode ? { inviteCode: options.inviteCode } : {}),
  };
  const response = await http().post('/api/v1/auth/register').send(body).expect(201);
  const token = await login(http, email, PASSWORD, response.body.tenant.id);
  return { ...response.body, email, password: PASSWORD, token };
}

export async function invite(
  http: () => Http,
  token: string,
  role: 'member' | 'admin' = 'member',
): Promise<string> {
  const response = await http()
    .post('/api/v1/tenants/current/invitations')
    .set('Authorization', `Bearer ${token}`)
    .send({ role })
    .expect(201);
  return response.body.code as string;
}

/** A tenant with an owner, an admin and a member. */
export async function tenantWithRoles(http: () => Http): Promise<{
  owner: Member;
  admin: Member;
  member: Member;
}> {
  const owner = await register(http);
  const admin = await register(http, {
    tenantName: owner.tenant.name,
    inviteCode: await invite(http, owner.token, 'admin'),
  });
  const member = await register(http, {
    tenantName: owner.tenant.name,
    inviteCode: await invite(http, owner.token, 'member'),
  });
  return { owner, admin, member };
}

export const bearer = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];
