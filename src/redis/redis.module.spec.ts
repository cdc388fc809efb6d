import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { freePort } from '../../test/harness/free-port';
import {
  closeRedisClient,
  LocalRedis,
  redisServerBinary,
  startLocalRedis,
} from '../../test/harness/redis-server';
import { connectRedis, isAuthError, redactRedisUrl } from './redis.module';

const binary = redisServerBinary(process.env);
/** Skipped, and counted as [redis] by the summary reporter, where no redis-server is installed. */
const describeRedis: jest.Describe = binary ? describe : describe.skip;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return Object.assign(Object.create(Logger.prototype) as Logger, {
    warnings,
    warn: (message: string) => warnings.push(message),
    log: () => undefined,
  });
}

describe(redactRedisUrl.name, () => {
  it('should hide the password and keep everything else', () => {
    expect(redactRedisUrl('redis://:s3cret@cache:6380/2')).toBe('redis://:***@cache:6380/2');
    expect(redactRedisUrl('rediss://app:s3cret@cache')).toBe('rediss://app:***@cache');
    expect(redactRedisUrl('redis://cache:6379')).toBe('redis://cache:6379');
  });
});

describe(isAuthError.name, () => {
  it('should tell Redis refusing the credentials from Redis being away', () => {
    expect(isAuthError(new Error('WRONGPASS invalid username-password pair'))).toBe(true);
    expect(isAuthError(new Error('NOAUTH Authentication required.'))).toBe(true);
    expect(isAuthError(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBe(false);
    expect(isAuthError(new Error('Command timed out'))).toBe(false);
    expect(isAuthError(undefined)).toBe(false);
  });
});

describeRedis(`[redis] ${connectRedis.name}`, () => {
  let server: LocalRedis;
  const clients: Redis[] = [];

  beforeAll(async () => {
    server = await startLocalRedis(binary as string, { password: 'right-password' });
  });
  afterAll(async () => {
    await Promise.all(clients.map(closeRedisClient));
    await server?.stop();
  });

  it('[redis] should connect with the right password', async () => {
    const client = await connectRedis(server.url, { logger: recordingLogger() });
    clients.push(client);
    await expect(client.ping()).resolves.toBe('PONG');
  });

  it('[redis] should refuse a wrong password, naming REDIS_URL and not the password', async () => {
    const wrong = server.url.replace('right-password', 'wrong-password');
    const failure = await connectRedis(wrong, { logger: recordingLogger() }).then(
      (client) => {
        clients.push(client);
        return undefined;
      },
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(
      /^REDIS_URL: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/,
    );
    expect(failure?.message).not.toContain('wrong-password');
  });

  it('[redis] should refuse a missing password', async () => {
    await expect(
      connectRedis(`redis://127.0.0.1:${server.port}`, { logger: recordingLogger() }),
    ).rejects.toThrow(/refused the credentials: NOAUTH/);
  });

  it('[redis] should start without an unreachable Redis, warn, and fail commands at once', async () => {
    const logger = recordingLogger();
    const client = await connectRedis(`redis://127.0.0.1:${await freePort()}`, {
      logger,
      commandTimeoutMs: 5_000,
    });
    clients.push(client);
    expect(logger.warnings).toEqual([
      expect.stringMatching(/^cannot reach redis:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\)/),
    ]);
    // At once: not queued until the (long) command timeout.
    const started = Date.now();
    await expect(client.ping()).rejects.toThrow(/enableOfflineQueue/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
