import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { PoolStats } from '../database/pool-stats';

/** How often the event loop's lag is sampled: a timer that fires late by the lag. */
const SAMPLE_MS = 50;

export type OverloadReason = 'event_loop' | 'pool' | 'in_flight';

/**
 * Load shedding's view of the process: how late the event loop runs (a timer every 50 ms, the
 * larger of the last two delays), how many callers wait for a database connection and how many
 * requests are in flight. Past any bound (SHED_EVENT_LOOP_LAG_MS, SHED_POOL_WAITING,
 * SHED_MAX_IN_FLIGHT), a new request is better answered 503 at once than queued behind work that
 * already cannot finish in time: the callers already in get their answers sooner, and the new ones
 * are told when to come back. The lag and the pool notice overload after it happened; the count
 * of requests in flight bounds the queue before it forms, so a served request never waits behind
 * more than that many others.
 */
@Injectable()
export class OverloadMonitor implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private last = 0;
  private lag: [number, number] = [0, 0];
  private inFlight = 0;

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

  /** Requests admitted and not yet answered (or abandoned by their callers). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Counts a request in flight until its response closes, answered or abandoned. */
  admit(response: { once(event: 'close', listener: () => void): unknown }): void {
    this.inFlight += 1;
    response.once('close', () => {
      this.inFlight -= 1;
    });
  }

  /** Why a new request should be refused now, or undefined when it can be served. */
  reason(): OverloadReason | undefined {
    const { eventLoopLagMs, poolWaiting, maxInFlight } = this.config.overload;
    if (maxInFlight > 0 && this.inFlight >= maxInFlight) return 'in_flight';
    if (eventLoopLagMs > 0 && this.eventLoopLagMs > eventLoopLagMs) return 'event_loop';
    if (poolWaiting > 0 && this.pool.app().waiting >= poolWaiting) return 'pool';
    return undefined;
  }

  get retryAfterSeconds(): number {
    return this.config.overload.retryAfterSeconds;
  }
}
