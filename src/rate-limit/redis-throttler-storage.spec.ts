import { Logger } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import Redis from 'ioredis';
import { freePort } from '../../test/harness/free-port';
import {
  closeRedisClient,
  LocalRedis,
  redisServerBinary,
  startLocalRedis,
} from '../../test/harness/redis-server';
import { connectRedis } from '../redis/redis.module';
import { MemoryLoginBackoffStore } from './login-backoff-store';
import { FailOpenLoginBackoffStore } from './rate-limit-stores';
import { RedisFallback } from './redis-fallback';
import { RedisLoginBackoffStore } from './redis-login-backoff-store';
import { RedisThrottlerStorage, THROTTLER_KEY_PREFIX } from './redis-throttler-storage';

const binary = redisServerBinary(process.env);
/** Skipped, and counted as [redis] by the summary reporter, where no redis-server is installed. */
const describeRedis: jest.Describe = binary ? describe : describe.skip;

const quiet = Object.assign(Object.create(Logger.prototype) as Logger, {
  warn: () => undefined,
  log: () => undefined,
});

const WINDOW_MS = 60_000;
const TIMEOUT_MS = 300;
const LIMIT = 3;

/** One service instance's view: its own connection, its own memory, its own fallback. */
function instance(redis: Redis): { storage: RedisThrottlerStorage; fallback: RedisFallback } {
  const fallback = new RedisFallback(quiet);
  return {
    storage: new RedisThrottlerStorage(redis, new ThrottlerStorageService(), fallback),
    fallback,
  };
}

describeRedis(`[redis] ${RedisThrottlerStorage.name}`, () => {
  let server: LocalRedis;
  const clients: Redis[] = [];
  const storages: RedisThrottlerStorage[] = [];
  const connect = async (url = server.url): Promise<Redis> => {
    const client = await connectRedis(url, { commandTimeoutMs: TIMEOUT_MS, logger: quiet });
    clients.push(client);
    return client;
  };
  const make = async (url?: string) => {
    const made = instance(await connect(url));
    storages.push(made.storage);
    return made;
  };
  const hit = (storage: RedisThrottlerStorage, key = 'key') =>
    storage.increment(key, WINDOW_MS, LIMIT, WINDOW_MS, 'ip');

  beforeAll(async () => {
    server = await startLocalRedis(binary as string);
  });
  afterEach(async () => {
    server.resume();
    await (await connect()).flushdb();
  });
  afterAll(async () => {
    for (const storage of storages) storage.onApplicationShutdown();
    await Promise.all(clients.map(closeRedisClient));
    await server?.stop();
  });

  it('[redis] should count one budget for every instance', async () => {
    const [a, b] = [await make(), await make()];
    const records = [];
    for (let i = 0; i < 4; i += 1) records.push(await hit((i % 2 ? a : b).storage));
    expect(records.map((record) => record.totalHits)).toEqual([1, 2, 3, 4]);
    expect(records.map((record) => record.isBlocked)).toEqual([false, false, false, true]);
    // Blocked for the other instance too, with the time left.
    const blocked = await hit(a.storage);
    expect(blocked.isBlocked).toBe(true);
    expect(blocked.timeToBlockExpire).toBeGreaterThan(WINDOW_MS / 1000 - 5);
  });

  it('[redis] should keep its counters under its prefix, each expiring with its window', async () => {
    const { storage } = await make();
    for (let i = 0; i < LIMIT + 1; i += 1) await hit(storage, 'some-hash');
    const redis = await connect();
    const keys = (await redis.keys('*')).sort();
    expect(keys).toEqual([
      `{${THROTTLER_KEY_PREFIX}some-hash:ip}:blocked`,
      `{${THROTTLER_KEY_PREFIX}some-hash:ip}:hits`,
    ]);
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(WINDOW_MS - 5_000);
      expect(ttl).toBeLessThanOrEqual(WINDOW_MS);
    }
  });

  it('[redis] should count every one of many hits arriving at once on two instances', async () => {
    const [a, b] = [await make(), await make()];
    await Promise.all(Array.from({ length: 100 }, (_, i) => hit((i % 2 ? a : b).storage)));
    const last = await hit(a.storage);
    expect(last.totalHits).toBe(101);
  });

  it('[redis] should count in memory, without failing, when Redis is unreachable', async () => {
    const { storage, fallback } = await make(`redis://127.0.0.1:${await freePort()}`);
    const records = [];
    for (let i = 0; i < LIMIT + 1; i += 1) records.push(await hit(storage));
    expect(records.map((record) => record.totalHits)).toEqual([1, 2, 3, 4]);
    expect(records[LIMIT].isBlocked).toBe(true);
    expect(fallback.failing).toBe(true);
  });

  it('[redis] should give up on a frozen Redis within the command timeout and count in memory', async () => {
    const { storage, fallback } = await make();
    await hit(storage);
    server.pause();
    const started = Date.now();
    const record = await hit(storage);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 500);
    // The memory counter starts afresh: fail open, to per-process limits.
    expect(record.totalHits).toBe(1);
    expect(fallback.failing).toBe(true);
    // Further hits do not wait for Redis again (RedisFallback leaves it alone for a while).
    const next = Date.now();
    await hit(storage);
    expect(Date.now() - next).toBeLessThan(TIMEOUT_MS);
  });

  it('[redis] should keep the login backoff working in memory while Redis fails', async () => {
    const redis = await connect();
    const fallback = new RedisFallback(quiet);
    const store = new FailOpenLoginBackoffStore(
      new RedisLoginBackoffStore(redis, 1),
      new MemoryLoginBackoffStore(1),
      fallback,
    );
    const now = Date.now();
    server.pause();
    await store.failed('alice@example.com', 'A', now);
    await expect(store.waitMs('alice@example.com', 'A', now)).resolves.toBe(1000);
    expect(fallback.failing).toBe(true);
  });
});
