import { Logger } from '@nestjs/common';

/** After a Redis failure, this long goes by before Redis is asked again. */
export const RETRY_REDIS_AFTER_MS = 5_000;

/**
 * Fail open, to per-process limits: when Redis fails (down, unreachable, or slower than the
 * command timeout), the rate limits and the login backoff count in this process's memory, as
 * without REDIS_URL, instead of failing the request (a 500 on every login) or refusing everyone
 * (a 429 for owners too). For RETRY_REDIS_AFTER_MS after a failure Redis is not asked at all, so
 * a hanging Redis costs one command timeout per interval, not one per request. One warning when
 * the outage starts, one line when Redis answers again. Counts made in memory during the outage
 * stay there: after it, Redis' counts (from before it) apply again.
 */
export class RedisFallback {
  private failingSince?: number;
  private retryAt = 0;

  constructor(
    private readonly logger = new Logger('RateLimit'),
    private readonly clock: () => number = Date.now,
  ) {}

  /** True while Redis is skipped after a failure. */
  get failing(): boolean {
    return this.failingSince !== undefined;
  }

  async run<T>(shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.failingSince !== undefined && this.clock() < this.retryAt) return local();
    let result: T;
    try {
      result = await shared();
    } catch (error) {
      this.retryAt = this.clock() + RETRY_REDIS_AFTER_MS;
      if (this.failingSince === undefined) {
        this.failingSince = this.clock();
        this.logger.warn(
          `Redis failed (${error instanceof Error ? error.message : String(error)}): rate limits ` +
            'and login backoff count in this process only until it answers again',
        );
      }
      return local();
    }
    if (this.failingSince !== undefined) {
      const seconds = Math.round((this.clock() - this.failingSince) / 1000);
      this.failingSince = undefined;
      this.logger.log(`Redis answers again after ${seconds} s: rate limits are shared again`);
    }
    return result;
  }
}
