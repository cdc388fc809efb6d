import { randomBytes } from 'node:crypto';
import { INestApplication, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ThrottlerStorageService } from '@nestjs/throttler';
import Redis from 'ioredis';
import {
  LOGIN_BACKOFF_STORE,
  MemoryLoginBackoffStore,
} from '../src/rate-limit/login-backoff-store';
import { FailOpenLoginBackoffStore, THROTTLER_STORAGE } from '../src/rate-limit/rate-limit-stores';
import { RedisThrottlerStorage } from '../src/rate-limit/redis-throttler-storage';
import { ConfigModule } from '../src/config/config.module';
import { RedisModule } from '../src/redis/redis.module';
import {
  createTestApp,
  describeRedis,
  describeRedisServer,
  Http,
  PASSWORD,
  redisServerBin,
  redisUrl,
  unique,
} from './harness/e2e';
import { closeRedisClient, LocalRedis, startLocalRedis } from './harness/redis-server';

const PER_IP = 6;
const PER_EMAIL = 3;
/** Small budgets; every client address is the X-Forwarded-For the one trusted proxy passes on. */
const LIMITS = {
  AUTH_RATE_LIMIT_PER_IP: String(PER_IP),
  AUTH_RATE_LIMIT_PER_EMAIL: String(PER_EMAIL),
  AUTH_RATE_WINDOW_SECONDS: '60',
  TRUST_PROXY: '1',
};

// Clients unique to this run, so counters left in a TEST_REDIS_URL by an earlier run within the
// window cannot interfere. The budgets count an IPv6 client by its /64: one network per client.
const RUN = randomBytes(2).toString('hex');
let used = 0;
const address = () => `2001:db8:${RUN}:${(used += 1).toString(16)}::1`;

interface App {
  app: INestApplication;
  http: () => Http;
}

async function boot(env: Record<string, string>): Promise<App> {
  return createTestApp({ ...LIMITS, ...env });
}

function login(target: App, from: string, email: string, password = 'not the password') {
  return target.http().post('/api/v1/auth/login').set('X-Forwarded-For', from).send({
    email,
    password,
  });
}

/** One failed login for a new email from `from`, on each instance in turn; the statuses. */
async function spray(instances: App[], from: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const target = instances[i % instances.length];
    statuses.push((await login(target, from, `${unique('nobody')}@example.com`)).status);
  }
  return statuses;
}

const budget = (extra: number) => [
  ...Array<number>(PER_IP).fill(401),
  ...Array<number>(extra).fill(429),
];

/** Registers an account from `from` (through the proxy) and returns its email. */
async function account(target: App, from: string): Promise<string> {
  const email = `${unique('owner')}@example.com`;
  await target
    .http()
    .post('/api/v1/auth/register')
    .set('X-Forwarded-For', from)
    .send({ tenantName: unique('T'), username: unique('u'), email, password: PASSWORD })
    .expect(201);
  return email;
}

/** Every key under the service's prefix, with its time to live in milliseconds. */
async function keysWithTtl(redis: Redis): Promise<Array<{ key: string; ttl: number }>> {
  const keys: string[] = [];
  for (const pattern of ['notes:*', '{notes:*']) {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return Promise.all(keys.map(async (key) => ({ key, ttl: await redis.pttl(key) })));
}

async function closeAll(apps: Array<App | undefined>): Promise<void> {
  for (const target of apps) await target?.app.close();
}

describeRedis('[redis] Rate limits shared by two instances through Redis (e2e)', () => {
  let a: App;
  let b: App;
  let single: App;
  let redis: Redis;
  let warn: jest.SpyInstance;
  // A generous command timeout: on a loaded test machine a process that falls back to memory
  // for a moment would split the counts and make these tests fail for the wrong reason.
  const shared = { REDIS_URL: redisUrl as string, REDIS_COMMAND_TIMEOUT_MS: '5000' };

  beforeAll(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn');
    a = await boot(shared);
    b = await boot(shared);
    single = await boot(shared);
    redis = new Redis(redisUrl as string);
  });
  afterAll(async () => {
    warn.mockRestore();
    await closeAll([a, b, single]);
    await closeRedisClient(redis);
  });

  it('[redis] should count in Redis on every instance', () => {
    for (const target of [a, b]) {
      expect(target.app.get(THROTTLER_STORAGE)).toBeInstanceOf(RedisThrottlerStorage);
      expect(target.app.get(LOGIN_BACKOFF_STORE)).toBeInstanceOf(FailOpenLoginBackoffStore);
    }
  });

  it('[redis] should refuse a client at the same total across two instances as on one', async () => {
    const alone = await spray([single], address(), PER_IP + 2);
    const split = await spray([a, b], address(), PER_IP + 2);
    expect(alone).toEqual(budget(2));
    expect(split).toEqual(alone);
  });

  it('[redis] should keep the refusal on both instances, with Retry-After', async () => {
    const from = address();
    await spray([a, b], from, PER_IP);
    for (const target of [a, b]) {
      const refused = await login(target, from, `${unique('nobody')}@example.com`).expect(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(50);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    // Another client behind the same proxy still has its whole budget.
    expect(await spray([a, b], address(), 2)).toEqual([401, 401]);
  });

  it('[redis] should slow down a client whose failed logins are split over both instances', async () => {
    const from = address();
    const email = `${unique('target')}@example.com`;
    for (let i = 0; i < PER_EMAIL; i += 1) await login(i % 2 ? b : a, from, email).expect(401);
    for (const target of [a, b]) {
      const refused = await login(target, from, email).expect(429);
      expect(refused.body.message).toMatch(/^Too many failed logins from here/);
      expect(refused.headers['retry-after']).toBe('1');
    }
    // Nobody else is locked out by those failures, on either instance.
    for (const target of [a, b]) await login(target, address(), email).expect(401);
  });

  it("[redis] should clear a client's failures on one instance when it logs in on the other", async () => {
    const from = address();
    const email = await account(a, address());
    for (let i = 0; i < PER_EMAIL - 1; i += 1) await login(a, from, email).expect(401);
    await login(b, from, email, PASSWORD).expect(200);
    // Counted per instance, the next failure on `a` would be its PER_EMAIL-th: a wait.
    for (let i = 0; i < PER_EMAIL - 1; i += 1) await login(a, from, email).expect(401);
  });

  it('[redis] should have counted in Redis all along, never in memory', () => {
    expect(warn.mock.calls.map(([message]) => String(message))).not.toContainEqual(
      expect.stringMatching(/^Redis failed/),
    );
  });

  it('[redis] should leave no counter in Redis without an expiry', async () => {
    const keys = await keysWithTtl(redis);
    expect(keys.some(({ key }) => key.startsWith('notes:backoff:'))).toBe(true);
    expect(keys.some(({ key }) => key.startsWith('{notes:throttle:'))).toBe(true);
    expect(keys.filter(({ ttl }) => ttl <= 0)).toEqual([]);
  });
});

describe('Rate limits without REDIS_URL: in each instance’s memory (e2e)', () => {
  let a: App;
  let b: App;

  beforeAll(async () => {
    a = await boot({});
    b = await boot({});
  });
  afterAll(() => closeAll([a, b]));

  it('should count in memory', () => {
    expect(a.app.get(THROTTLER_STORAGE)).toBeInstanceOf(ThrottlerStorageService);
    expect(a.app.get(LOGIN_BACKOFF_STORE)).toBeInstanceOf(MemoryLoginBackoffStore);
  });

  it('should give each instance a budget of its own (what REDIS_URL is for)', async () => {
    const from = address();
    expect(await spray([a], from, PER_IP + 1)).toEqual(budget(1));
    expect(await spray([b], from, PER_IP)).toEqual(budget(0));
  });
});

describeRedisServer('[redis] When Redis fails, the limits count per process (e2e)', () => {
  let warn: jest.SpyInstance;
  const warnings = () => warn.mock.calls.map(([message]) => String(message));

  beforeEach(() => {
    // The warnings are part of the contract; keep them out of the test output.
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('[redis] should keep answering, never 5xx, when Redis stops, and share again once it is back', async () => {
    let server: LocalRedis | undefined = await startLocalRedis(redisServerBin as string);
    let target: App | undefined;
    let redis: Redis | undefined;
    try {
      target = await boot({ REDIS_URL: server.url });
      redis = new Redis(server.url);
      expect(await spray([target], address(), 1)).toEqual([401]);
      expect((await redis.keys('{notes:throttle:*')).length).toBeGreaterThan(0);
      await closeRedisClient(redis);
      await server.stop();

      // Down: the per-IP budget still holds, counted in this process, and nothing waits.
      const from = address();
      const started = Date.now();
      expect(await spray([target], from, PER_IP + 1)).toEqual(budget(1));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(warnings()).toContainEqual(
        expect.stringMatching(/^Redis failed .*count in this process only/),
      );

      // Back on the same port: after the retry interval the counters are in Redis again.
      server = await startLocalRedis(redisServerBin as string, { port: server.port });
      redis = new Redis(server.url);
      const deadline = Date.now() + 20_000;
      while ((await redis.keys('{notes:throttle:*')).length === 0) {
        if (Date.now() > deadline) throw new Error('the counters never went back to Redis');
        expect(await spray([target], address(), 1)).toEqual([401]);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await closeRedisClient(redis);
      await closeAll([target]);
      await server?.stop();
      server = undefined;
    }
  });

  it('[redis] should not hang on a frozen Redis: one command timeout, then memory', async () => {
    const server = await startLocalRedis(redisServerBin as string);
    const timeout = 300;
    let target: App | undefined;
    try {
      target = await boot({ REDIS_URL: server.url, REDIS_COMMAND_TIMEOUT_MS: String(timeout) });
      expect(await spray([target], address(), 1)).toEqual([401]);
      server.pause();
      const from = address();
      const first = Date.now();
      // Without a command timeout this would wait for as long as Redis stays frozen.
      expect(await spray([target], from, 1)).toEqual([401]);
      expect(Date.now() - first).toBeLessThan(timeout + 5_000);
      // And the limit holds meanwhile, counted in this process.
      expect(await spray([target], from, PER_IP)).toEqual([...budget(1).slice(1)]);
    } finally {
      server.resume();
      await closeAll([target]);
      await server.stop();
    }
  });

  it('[redis] should start without a Redis it cannot reach, with a warning, and limit per process', async () => {
    const server = await startLocalRedis(redisServerBin as string);
    await server.stop();
    let target: App | undefined;
    try {
      const started = Date.now();
      target = await boot({ REDIS_URL: server.url });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(warnings()).toContainEqual(
        expect.stringMatching(/^cannot reach redis:\/\/127\.0\.0\.1/),
      );
      expect(await spray([target], address(), PER_IP + 1)).toEqual(budget(1));
    } finally {
      await closeAll([target]);
    }
  });

  it('[redis] should refuse to start when Redis refuses the password, naming REDIS_URL and not the password', async () => {
    const server = await startLocalRedis(redisServerBin as string, { password: 'right-password' });
    try {
      // The modules that read REDIS_URL and connect, as AppModule boots them (the whole app would
      // leave its database pools retrying after the failed boot; main.ts exits there).
      Object.assign(process.env, {
        NODE_ENV: 'test',
        DATABASE_URL: process.env.E2E_APP_DATABASE_URL,
        REDIS_URL: server.url.replace('right-password', 'wrong-password'),
      });
      const boot = Test.createTestingModule({ imports: [ConfigModule, RedisModule] }).compile();
      const failure = await boot.then(
        async (moduleRef) => {
          await moduleRef.close();
          return undefined;
        },
        (error: unknown) => error as Error,
      );
      expect(failure?.message).toMatch(
        /^REDIS_URL: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/,
      );
      expect(failure?.message).not.toContain('wrong-password');
    } finally {
      process.env.REDIS_URL = '';
      await server.stop();
    }
  });
});
