import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { PoolStats } from '../database/pool-stats';

/** How often the event loop's lag is sampled: a timer that fires late by the lag. */
const SAMPLE_MS = 50;

export type OverloadReason = 'event_loop' | 'pool';

/**
 * Load shedding's view of the process: how late the event loop runs (a timer every 50 ms, the
 * larger of the last two delays) and how many callers wait for a database connection. Past either
 * bound (SHED_EVENT_LOOP_LAG_MS, SHED_POOL_WAITING), a new request is better answered 503 at once
 * than queued behind work that already cannot finish in time: the callers already in get their
 * answers sooner, and the new ones are told when to come back.
 */
@Injectable()
export class OverloadMonitor implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private last = 0;
  private lag: [number, number] = [0, 0];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pool: PoolStats,
  ) {}

  onModuleInit(): void {
    if (this.config.overload.eventLoopLagMs <= 0) return;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lag = [this.lag[1], Math.max(0, now - this.last - SAMPLE_MS)];
      this.last = now;
    }, SAMPLE_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The event loop's recent lag in ms. */
  get eventLoopLagMs(): number {
    return Math.max(this.lag[0], this.lag[1]);
  }

  /** Why a new request should be refused now, or undefined when it can be served. */
  reason(): OverloadReason | undefined {
    const { eventLoopLagMs, poolWaiting } = this.config.overload;
    if (eventLoopLagMs > 0 && this.eventLoopLagMs > eventLoopLagMs) return 'event_loop';
    if (poolWaiting > 0 && this.pool.app().waiting >= poolWaiting) return 'pool';
    return undefined;
  }

  get retryAfterSeconds(): number {
    return this.config.overload.retryAfterSeconds;
  }
}
