import { Logger } from '@nestjs/common';
import { RedisFallback, RETRY_REDIS_AFTER_MS } from './redis-fallback';

/** A logger that keeps what it is told. */
function recordingLogger(): Logger & { warnings: string[]; notes: string[] } {
  const warnings: string[] = [];
  const notes: string[] = [];
  return Object.assign(Object.create(Logger.prototype) as Logger, {
    warnings,
    notes,
    warn: (message: string) => warnings.push(message),
    log: (message: string) => notes.push(message),
  });
}

describe(RedisFallback.name, () => {
  let now: number;
  let logger: ReturnType<typeof recordingLogger>;
  let fallback: RedisFallback;
  let redisCalls: number;
  let redisUp: boolean;

  const shared = () => {
    redisCalls += 1;
    return redisUp ? Promise.resolve('redis') : Promise.reject(new Error('ECONNREFUSED'));
  };
  const local = () => Promise.resolve('memory');

  beforeEach(() => {
    now = 1_000_000;
    logger = recordingLogger();
    fallback = new RedisFallback(logger, () => now);
    redisCalls = 0;
    redisUp = true;
  });

  it('should answer from Redis while it answers, and log nothing', async () => {
    await expect(fallback.run(shared, local)).resolves.toBe('redis');
    expect(fallback.failing).toBe(false);
    expect(logger.warnings).toEqual([]);
  });

  it('should answer from memory when Redis fails, with one warning per outage', async () => {
    redisUp = false;
    await expect(fallback.run(shared, local)).resolves.toBe('memory');
    expect(fallback.failing).toBe(true);
    now += RETRY_REDIS_AFTER_MS + 1;
    await expect(fallback.run(shared, local)).resolves.toBe('memory');
    expect(logger.warnings).toEqual([
      expect.stringMatching(/^Redis failed \(ECONNREFUSED\): rate limits .* in this process only/),
    ]);
  });

  it('should not ask a failed Redis again for a while, so a frozen one costs one timeout per interval', async () => {
    redisUp = false;
    await fallback.run(shared, local);
    for (let i = 0; i < 20; i += 1) await fallback.run(shared, local);
    expect(redisCalls).toBe(1);
    now += RETRY_REDIS_AFTER_MS - 1;
    await fallback.run(shared, local);
    expect(redisCalls).toBe(1);
    now += 2;
    await fallback.run(shared, local);
    expect(redisCalls).toBe(2);
  });

  it('should go back to Redis once it answers again, and say so', async () => {
    redisUp = false;
    await fallback.run(shared, local);
    redisUp = true;
    now += RETRY_REDIS_AFTER_MS + 1;
    await expect(fallback.run(shared, local)).resolves.toBe('redis');
    expect(fallback.failing).toBe(false);
    expect(logger.notes).toEqual(['Redis answers again after 5 s: rate limits are shared again']);
  });
});
