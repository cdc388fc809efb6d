import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ClusterSql } from '../database/admin-database';
import { PoolStats } from '../database/pool-stats';

export type ShedReason = 'event_loop' | 'pool' | 'in_flight';
export type TenantLimitKind = 'rate' | 'concurrency';

type RequestLabel = 'method' | 'route' | 'status';

/** The route label of a request that matched no route (never its URL: one series per route). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The service's Prometheus series, in a registry of its own (not prom-client's global one, so two
 * apps in one process, as in the e2e specs, keep theirs apart). Counters are methods the parts
 * that count call; gauges are read when Prometheus scrapes. Served by MetricsServer on a port of
 * its own (METRICS_PORT); docs/metrics.md lists every series and what to alert on.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests: Counter<RequestLabel>;
  private readonly durations: Histogram<RequestLabel>;
  private readonly shedTotal: Counter<'reason'>;
  private readonly tenantLimitedTotal: Counter<'kind'>;
  private readonly loginBackoffTotal: Counter;
  private readonly mailFailuresTotal: Counter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    pools: PoolStats,
    admin: ClusterSql,
  ) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.durations = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the request to its answer, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.shedTotal = new Counter({
      name: 'http_requests_shed_total',
      help: 'Requests answered 503 OVERLOADED at once (load shedding), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.tenantLimitedTotal = new Counter({
      name: 'tenant_requests_limited_total',
      help: "Requests refused 429 TENANT_RATE_LIMITED beyond a tenant's budget, by kind",
      labelNames: ['kind'],
      registers,
    });
    this.loginBackoffTotal = new Counter({
      name: 'login_backoff_total',
      help: 'Password checks refused 429 because the client must wait after failed logins',
      registers,
    });
    this.mailFailuresTotal = new Counter({
      name: 'mail_failures_total',
      help: 'Mails the SMTP server did not take',
      registers,
    });
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by pool (app, admin) and state (in_use, idle, waiting)',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        for (const [pool, numbers] of [
          ['app', pools.app()],
          ['admin', admin.pool()],
        ] as const) {
          this.set({ pool, state: 'in_use' }, numbers.inUse);
          this.set({ pool, state: 'idle' }, numbers.idle);
          this.set({ pool, state: 'waiting' }, numbers.waiting);
        }
      },
    });
    // Process, heap, GC and event-loop lag (nodejs_eventloop_lag_seconds): only when served,
    // since the event-loop and GC monitors cost a little on every tick.
    if (config.metrics.enabled) collectDefaultMetrics({ register: this.registry });
  }

  /** Whether the series are served (METRICS_ENABLED): request timing is skipped otherwise. */
  get enabled(): boolean {
    return this.config.metrics.enabled;
  }

  /** One answered request; `route` is the route's pattern, or UNMATCHED_ROUTE. */
  request(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.durations.observe(labels, seconds);
  }

  shed(reason: ShedReason): void {
    this.shedTotal.inc({ reason });
  }

  tenantLimited(kind: TenantLimitKind): void {
    this.tenantLimitedTotal.inc({ kind });
  }

  loginBackoff(): void {
    this.loginBackoffTotal.inc();
  }

  mailFailed(): void {
    this.mailFailuresTotal.inc();
  }
}
