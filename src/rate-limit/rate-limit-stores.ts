import { Module } from '@nestjs/common';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RedisConnection, RedisModule } from '../redis/redis.module';
import {
  LOGIN_BACKOFF_STORE,
  LoginBackoffStore,
  MemoryLoginBackoffStore,
} from './login-backoff-store';
import { RedisFallback } from './redis-fallback';
import { RedisLoginBackoffStore } from './redis-login-backoff-store';
import { RedisThrottlerStorage } from './redis-throttler-storage';
import {
  MemoryTenantBudgetStore,
  RecentRefusal,
  RedisTenantBudgetStore,
  TenantBudgetStore,
  TenantRefusal,
} from './tenant-budget-store';

export const THROTTLER_STORAGE = Symbol('THROTTLER_STORAGE');
export const TENANT_BUDGET_STORE = Symbol('TENANT_BUDGET_STORE');

/** Redis first; this process's memory while Redis fails (see RedisFallback). */
export class FailOpenTenantBudgetStore implements TenantBudgetStore {
  constructor(
    private readonly shared: TenantBudgetStore,
    private readonly local: TenantBudgetStore,
    private readonly fallback: RedisFallback,
  ) {}

  enter(tenant: string, now: number): Promise<TenantRefusal | undefined> {
    return this.fallback.run(
      () => this.shared.enter(tenant, now),
      () => this.local.enter(tenant, now),
    );
  }

  leave(tenant: string): Promise<void> {
    return this.fallback.run(
      () => this.shared.leave(tenant),
      () => this.local.leave(tenant),
    );
  }

  refused(tenant: string, kind: TenantRefusal['kind'], now: number): Promise<void> {
    return this.fallback.run(
      () => this.shared.refused(tenant, kind, now),
      () => this.local.refused(tenant, kind, now),
    );
  }

  refusedSince(since: number): Promise<RecentRefusal[]> {
    return this.fallback.run(
      () => this.shared.refusedSince(since),
      () => this.local.refusedSince(since),
    );
  }
}

/** Redis first; this process's memory while Redis fails (see RedisFallback). */
export class FailOpenLoginBackoffStore implements LoginBackoffStore {
  constructor(
    private readonly shared: LoginBackoffStore,
    private readonly local: LoginBackoffStore,
    private readonly fallback: RedisFallback,
  ) {}

  waitMs(email: string, client: string, now: number): Promise<number> {
    return this.fallback.run(
      () => this.shared.waitMs(email, client, now),
      () => this.local.waitMs(email, client, now),
    );
  }

  failed(email: string, client: string, now: number): Promise<void> {
    return this.fallback.run(
      () => this.shared.failed(email, client, now),
      () => this.local.failed(email, client, now),
    );
  }

  succeeded(email: string, client: string): Promise<void> {
    return this.fallback.run(
      () => this.shared.succeeded(email, client),
      () => this.local.succeeded(email, client),
    );
  }
}

/**
 * Where the credential rate limits, the login backoff and the tenants' budgets count, chosen once at start-up: with
 * REDIS_URL in Redis, shared by every process and instance (falling back to memory while Redis
 * fails); without it in this process's memory. One RedisFallback serves both, so an outage is
 * noticed, logged and retried once.
 */
@Module({
  imports: [RedisModule],
  providers: [
    { provide: RedisFallback, useFactory: () => new RedisFallback() },
    {
      provide: LOGIN_BACKOFF_STORE,
      inject: [APP_CONFIG, RedisConnection, RedisFallback],
      useFactory: (
        config: AppConfig,
        redis: RedisConnection,
        fallback: RedisFallback,
      ): LoginBackoffStore => {
        const free = config.rateLimit.perEmail;
        const local = new MemoryLoginBackoffStore(free);
        if (!redis.client) return local;
        return new FailOpenLoginBackoffStore(
          new RedisLoginBackoffStore(redis.client, free),
          local,
          fallback,
        );
      },
    },
    {
      provide: TENANT_BUDGET_STORE,
      inject: [APP_CONFIG, RedisConnection, RedisFallback],
      useFactory: (
        config: AppConfig,
        redis: RedisConnection,
        fallback: RedisFallback,
      ): TenantBudgetStore => {
        const local = new MemoryTenantBudgetStore(config.tenantLimits);
        if (!redis.client) return local;
        return new FailOpenTenantBudgetStore(
          new RedisTenantBudgetStore(redis.client, config.tenantLimits),
          local,
          fallback,
        );
      },
    },
    {
      provide: THROTTLER_STORAGE,
      inject: [RedisConnection, RedisFallback],
      useFactory: (redis: RedisConnection, fallback: RedisFallback): ThrottlerStorage => {
        const local = new ThrottlerStorageService();
        return redis.client ? new RedisThrottlerStorage(redis.client, local, fallback) : local;
      },
    },
  ],
  exports: [LOGIN_BACKOFF_STORE, THROTTLER_STORAGE, TENANT_BUDGET_STORE],
})
export class RateLimitStoresModule {}
