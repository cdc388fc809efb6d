import { OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import Redis from 'ioredis';
import { RedisFallback } from './redis-fallback';

/** Key prefix of every counter the throttler writes to Redis. */
export const THROTTLER_KEY_PREFIX = 'notes:throttle:';

/**
 * The throttler's budgets in Redis (@nest-lab/throttler-storage-redis: one Lua script increments
 * the counter, starts its window and the block, so concurrent hits on several instances are all
 * counted; every key expires with its window or block). When Redis fails, the budgets are
 * counted in this process's memory instead (RedisFallback).
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly shared: ThrottlerStorageRedisService;

  constructor(
    redis: Redis,
    private readonly local: ThrottlerStorageService,
    private readonly fallback: RedisFallback,
  ) {
    this.shared = new ThrottlerStorageRedisService(redis);
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    return this.fallback.run(
      () =>
        this.shared.increment(
          `${THROTTLER_KEY_PREFIX}${key}`,
          ttl,
          limit,
          blockDuration,
          throttlerName,
        ),
      () => this.local.increment(key, ttl, limit, blockDuration, throttlerName),
    );
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
  }
}
