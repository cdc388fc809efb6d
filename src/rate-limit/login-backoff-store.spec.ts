import Redis from 'ioredis';
import { freePort } from '../../test/harness/free-port';
import {
  closeRedisClient,
  LocalRedis,
  redisServerBinary,
  startLocalRedis,
} from '../../test/harness/redis-server';
import {
  FORGET_AFTER_MS,
  LoginBackoffStore,
  MAX_DELAY_MS,
  MemoryLoginBackoffStore,
} from './login-backoff-store';
import { clientKey, emailKey, RedisLoginBackoffStore } from './redis-login-backoff-store';

/** Failures a client may have for one email before it must wait. */
const N = 4;
const EMAIL = 'alice@example.com';
const T0 = Date.UTC(2030, 0, 1);
const HOUR = 60 * 60_000;

const binary = redisServerBinary(process.env);
/** Skipped, and counted as [redis] by the summary reporter, where no redis-server is installed. */
const describeRedis: jest.Describe = binary ? describe : describe.skip;

interface Harness {
  /** A fresh store with `free` free failures, as one instance of the service would have it. */
  store: (free?: number) => LoginBackoffStore;
}

/**
 * The rules of login-backoff-store.ts, run against every implementation: whatever the store,
 * a client waits the same.
 */
function behavesAsTheBackoff(harness: () => Harness): void {
  let store: LoginBackoffStore;
  beforeEach(() => {
    store = harness().store();
  });

  const fail = async (times: number, client = 'A', now = T0, email = EMAIL) => {
    for (let i = 0; i < times; i += 1) await store.failed(email, client, now);
  };
  const wait = (client = 'A', now = T0, email = EMAIL) => store.waitMs(email, client, now);

  it('should let a client try again after fewer than N failures', async () => {
    await fail(N - 1);
    await expect(wait()).resolves.toBe(0);
  });

  it('should make the client wait 1 s at its Nth failure', async () => {
    await fail(N);
    await expect(wait()).resolves.toBe(1000);
    await expect(wait('A', T0 + 400)).resolves.toBe(600);
    await expect(wait('A', T0 + 1000)).resolves.toBe(0);
  });

  it('should take the number of free failures from the store it was made with', async () => {
    const two = harness().store(2);
    await two.failed(EMAIL, 'A', T0);
    await two.failed(EMAIL, 'A', T0);
    await expect(two.waitMs(EMAIL, 'A', T0)).resolves.toBe(1000);
  });

  it('should not make another client wait, nor the client for another email', async () => {
    await fail(N);
    await expect(wait('B')).resolves.toBe(0);
    await expect(wait('A', T0, 'bob@example.com')).resolves.toBe(0);
  });

  it('should double the wait at every further failure, up to 15 minutes', async () => {
    await fail(N);
    const waits = [await wait()];
    let now = T0;
    for (let i = 0; i < 4; i += 1) {
      now += waits[waits.length - 1];
      await store.failed(EMAIL, 'A', now);
      waits.push(await wait('A', now));
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000]);
    await fail(30, 'A', now);
    await expect(wait('A', now)).resolves.toBe(MAX_DELAY_MS);
  });

  it("should clear the client's failures on success, and nobody else's", async () => {
    await fail(N, 'A');
    await fail(N, 'B');
    await store.succeeded(EMAIL, 'A');
    await expect(wait('A')).resolves.toBe(0);
    await expect(wait('B')).resolves.toBe(1000);
    await fail(N - 1, 'A');
    await expect(wait('A')).resolves.toBe(0);
  });

  it('should remember failures through a quiet hour and forget them after it', async () => {
    await fail(N - 1);
    await store.failed(EMAIL, 'A', T0 + HOUR);
    await expect(wait('A', T0 + HOUR)).resolves.toBe(1000);

    const carol = 'carol@example.com';
    await fail(N - 1, 'A', T0, carol);
    const later = T0 + FORGET_AFTER_MS + 1;
    await store.failed(carol, 'A', later);
    await expect(wait('A', later, carol)).resolves.toBe(0);
  });

  it('should count the quiet hour from the end of the wait, so a patient guesser keeps it', async () => {
    await fail(N + 30);
    // An hour after the last failure, but only 45 minutes after the wait ended: remembered.
    const hour = T0 + HOUR + 1;
    await store.failed(EMAIL, 'A', hour);
    await expect(wait('A', hour)).resolves.toBe(MAX_DELAY_MS);
    // A full quiet hour after the end of that wait: forgotten.
    const forgotten = hour + MAX_DELAY_MS + FORGET_AFTER_MS + 1;
    await expect(wait('A', forgotten)).resolves.toBe(0);
    await store.failed(EMAIL, 'A', forgotten);
    await expect(wait('A', forgotten)).resolves.toBe(0);
  });

  it('should make every failing client wait from its first failure under a spread-out attack', async () => {
    for (let client = 0; client <= 5 * N; client += 1) await fail(1, `attacker-${client}`);
    await fail(1, 'newcomer');
    await expect(wait('newcomer')).resolves.toBe(1000);
    // Somebody who has not failed is never made to wait.
    await expect(wait('owner')).resolves.toBe(0);
  });

  it('should leave free tries to every client while the email has few failures overall', async () => {
    for (let client = 0; client < 5 * N - 1; client += 1) await fail(1, `client-${client}`);
    await fail(1, 'newcomer');
    await expect(wait('newcomer')).resolves.toBe(0);
  });
}

describe(MemoryLoginBackoffStore.name, () => {
  behavesAsTheBackoff(() => ({ store: (free = N) => new MemoryLoginBackoffStore(free) }));

  it('should count per process: two stores do not see each other', async () => {
    const one = new MemoryLoginBackoffStore(1);
    const two = new MemoryLoginBackoffStore(1);
    await one.failed(EMAIL, 'A', T0);
    await expect(one.waitMs(EMAIL, 'A', T0)).resolves.toBe(1000);
    await expect(two.waitMs(EMAIL, 'A', T0)).resolves.toBe(0);
  });
});

describeRedis(`[redis] ${RedisLoginBackoffStore.name}`, () => {
  let server: LocalRedis;
  /** Two connections: two instances of the service sharing one Redis. */
  let first: Redis;
  let second: Redis;

  beforeAll(async () => {
    server = await startLocalRedis(binary as string);
    first = new Redis(server.url);
    second = new Redis(server.url);
  });
  afterAll(async () => {
    await closeRedisClient(first);
    await closeRedisClient(second);
    await server?.stop();
  });
  beforeEach(async () => {
    // The server is this spec's own.
    await first.flushdb();
  });

  describe('[redis] the rules', () => {
    // Every other call goes through the other connection: the rules hold across instances.
    behavesAsTheBackoff(() => ({
      store: (free = N) => {
        const stores = [
          new RedisLoginBackoffStore(first, free),
          new RedisLoginBackoffStore(second, free),
        ];
        let turn = 0;
        const next = () => stores[(turn += 1) % 2];
        return {
          waitMs: (email, client, now) => next().waitMs(email, client, now),
          failed: (email, client, now) => next().failed(email, client, now),
          succeeded: (email, client) => next().succeeded(email, client),
        };
      },
    }));
  });

  it('[redis] should share the counts between instances', async () => {
    const one = new RedisLoginBackoffStore(first, N);
    const two = new RedisLoginBackoffStore(second, N);
    for (let i = 0; i < N - 1; i += 1) await one.failed(EMAIL, 'A', T0);
    await expect(two.waitMs(EMAIL, 'A', T0)).resolves.toBe(0);
    await two.failed(EMAIL, 'A', T0);
    await expect(one.waitMs(EMAIL, 'A', T0)).resolves.toBe(1000);
    await one.succeeded(EMAIL, 'A');
    await expect(two.waitMs(EMAIL, 'A', T0)).resolves.toBe(0);
  });

  it('[redis] should count every one of many failures arriving at once on two instances', async () => {
    const one = new RedisLoginBackoffStore(first, 1_000);
    const two = new RedisLoginBackoffStore(second, 1_000);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? one : two).failed(EMAIL, 'A', T0)),
    );
    await expect(first.hget(clientKey(EMAIL, 'A'), 'count')).resolves.toBe('200');
    await expect(first.hget(emailKey(EMAIL), 'count')).resolves.toBe('200');
  });

  it('[redis] should let every key expire once it would be forgotten anyway', async () => {
    const store = new RedisLoginBackoffStore(first, N);
    const now = Date.now();
    for (let i = 0; i < N + 2; i += 1) await store.failed(EMAIL, 'A', now);
    const client = await first.pttl(clientKey(EMAIL, 'A'));
    const email = await first.pttl(emailKey(EMAIL));
    // The client waits 4 s, then a quiet hour; the email-wide count has no wait of its own.
    expect(client).toBeGreaterThan(FORGET_AFTER_MS + 4000 - 5000);
    expect(client).toBeLessThanOrEqual(FORGET_AFTER_MS + 4000 + 1000);
    expect(email).toBeGreaterThan(FORGET_AFTER_MS - 5000);
    expect(email).toBeLessThanOrEqual(FORGET_AFTER_MS + 1000);
    expect(await first.keys('*')).toEqual(
      expect.arrayContaining([clientKey(EMAIL, 'A'), emailKey(EMAIL)]),
    );
    expect((await first.keys('*')).every((key) => key.startsWith('notes:backoff:'))).toBe(true);
  });

  it('[redis] should keep an email and its clients in one hash slot (Redis Cluster)', () => {
    const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
    expect(tag(clientKey(EMAIL, '203.0.113.9'))).toBe(EMAIL);
    expect(tag(emailKey(EMAIL))).toBe(EMAIL);
  });

  it('[redis] should fail (for the caller to fall back) when Redis is unreachable', async () => {
    const unreachable = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    unreachable.on('error', () => undefined);
    await unreachable.connect().catch(() => undefined);
    const store = new RedisLoginBackoffStore(unreachable, N);
    await expect(store.failed(EMAIL, 'A', T0)).rejects.toThrow();
    await expect(store.waitMs(EMAIL, 'A', T0)).rejects.toThrow();
    await closeRedisClient(unreachable);
  });
});
