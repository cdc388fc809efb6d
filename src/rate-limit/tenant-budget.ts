import { Inject, Injectable, Logger, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../errors/app-error';
import { MetricsService } from '../metrics/metrics.service';
import { RateLimitStoresModule, TENANT_BUDGET_STORE } from './rate-limit-stores';
import { RecentRefusal, REFUSALS_KEPT_MS, TenantBudgetStore } from './tenant-budget-store';

/**
 * Each tenant's fair share, checked by the auth guard once the token says which tenant asks and
 * before any database work: TENANT_RATE_LIMIT_PER_SECOND requests a second and
 * TENANT_CONCURRENCY requests in flight. A tenant over either gets 429 TENANT_RATE_LIMITED with
 * Retry-After at once, so one tenant's looping integration queues nobody else's requests.
 */
@Injectable()
export class TenantBudget {
  private readonly logger = new Logger('TenantBudget');
  private readonly enabled: boolean;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(TENANT_BUDGET_STORE) private readonly store: TenantBudgetStore,
    private readonly metrics: MetricsService,
  ) {
    this.enabled = config.tenantLimits.requestsPerSecond > 0 || config.tenantLimits.concurrent > 0;
  }

  /**
   * Takes a place for one request of `tenant` (`release` gives it back: call it once the request
   * is answered), or says why not: `refused` is the TENANT_RATE_LIMITED error to answer with.
   */
  async admit(tenant: string): Promise<{ release: () => void; refused?: AppError }> {
    if (!this.enabled) return { release: () => undefined };
    const now = Date.now();
    const refusal = await this.store.enter(tenant, now);
    if (refusal) {
      this.metrics.tenantLimited(refusal.kind);
      this.store.refused(tenant, refusal.kind, now).catch((error: unknown) => this.warn(error));
      const seconds = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
      return {
        release: () => undefined,
        refused: new AppError(
          'TENANT_RATE_LIMITED',
          refusal.kind === 'rate'
            ? `Your organisation sends more requests a second than its share: retry in ${seconds} s`
            : `Your organisation has as many requests in progress as its share: retry in ${seconds} s`,
          { limit: refusal.kind },
          { 'Retry-After': String(seconds) },
        ),
      };
    }
    let left = false;
    return {
      release: () => {
        if (left) return;
        left = true;
        this.store.leave(tenant).catch((error: unknown) => this.warn(error));
      },
    };
  }

  /** Tenants refused in the last five minutes, newest first. */
  recentRefusals(): Promise<RecentRefusal[]> {
    return this.store.refusedSince(Date.now() - REFUSALS_KEPT_MS);
  }

  private warn(error: unknown): void {
    this.logger.warn(`tenant budget: ${error instanceof Error ? error.message : String(error)}`);
  }
}

@Module({
  imports: [RateLimitStoresModule],
  providers: [TenantBudget],
  exports: [TenantBudget],
})
export class TenantBudgetModule {}
