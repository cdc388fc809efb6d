import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { FastifyInstance } from 'fastify';
import { CitusMetrics } from '../citus-admin/citus-metrics';
import { ClusterRepository } from '../citus-admin/cluster.repository';
import { RebalanceService } from '../citus-admin/rebalance.service';
import { AppConfig, loadConfig } from '../config/app-config';
import { ClusterSql } from '../database/admin-database';
import { PoolNumbers, PoolStats } from '../database/pool-stats';
import { recordRequests } from './http-metrics';
import { MetricsService } from './metrics.service';

function config(enabled: boolean): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://localhost/notes',
    METRICS_ENABLED: String(enabled),
  });
}

/** The samples of one series, as prom-client reports them. */
async function samples(metrics: MetricsService, name: string) {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values;
}

describe(MetricsService.name, () => {
  let app: PoolNumbers;
  let admin: PoolNumbers;

  const build = (enabled = true) =>
    new MetricsService(
      config(enabled),
      { app: () => app } as unknown as PoolStats,
      { pool: () => admin } as unknown as ClusterSql,
    );

  beforeEach(() => {
    app = { inUse: 0, idle: 0, waiting: 0 };
    admin = { inUse: 0, idle: 0, waiting: 0 };
  });

  it('should keep its series in a registry of its own, apart from another instance', async () => {
    const [one, two] = [build(), build()];
    one.shed('pool');
    expect(one.registry).not.toBe(two.registry);
    expect(await samples(one, 'http_requests_shed_total')).toEqual([
      { labels: { reason: 'pool' }, value: 1 },
    ]);
    expect(await samples(two, 'http_requests_shed_total')).toEqual([]);
  });

  it('should count shed, tenant-limited, backed-off and failed-mail events by their labels', async () => {
    const metrics = build();
    metrics.shed('event_loop');
    metrics.shed('event_loop');
    metrics.tenantLimited('rate');
    metrics.tenantLimited('concurrency');
    metrics.loginBackoff();
    metrics.mailFailed();
    metrics.mailFailed();
    expect(await samples(metrics, 'http_requests_shed_total')).toEqual([
      { labels: { reason: 'event_loop' }, value: 2 },
    ]);
    expect(await samples(metrics, 'tenant_requests_limited_total')).toEqual([
      { labels: { kind: 'rate' }, value: 1 },
      { labels: { kind: 'concurrency' }, value: 1 },
    ]);
    expect(await samples(metrics, 'login_backoff_total')).toEqual([{ labels: {}, value: 1 }]);
    expect(await samples(metrics, 'mail_failures_total')).toEqual([{ labels: {}, value: 2 }]);
  });

  it('should read both database pools afresh at every scrape', async () => {
    const metrics = build();
    app = { inUse: 3, idle: 2, waiting: 7 };
    admin = { inUse: 1, idle: 0, waiting: 0 };
    const text = await metrics.registry.metrics();
    for (const line of [
      'db_pool_connections{pool="app",state="in_use"} 3',
      'db_pool_connections{pool="app",state="idle"} 2',
      'db_pool_connections{pool="app",state="waiting"} 7',
      'db_pool_connections{pool="admin",state="in_use"} 1',
      'db_pool_connections{pool="admin",state="idle"} 0',
      'db_pool_connections{pool="admin",state="waiting"} 0',
    ]) {
      expect(text).toContain(line);
    }
    app = { inUse: 0, idle: 5, waiting: 0 };
    expect(await metrics.registry.metrics()).toContain(
      'db_pool_connections{pool="app",state="in_use"} 0',
    );
  });

  it('should collect the process metrics, event-loop lag included, only when metrics are on', async () => {
    expect(await build(true).registry.metrics()).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(await build(false).registry.metrics()).not.toContain('nodejs_eventloop_lag_seconds');
  });

  it('should list in docs/metrics.md exactly the series it has, besides the process defaults', () => {
    const metrics = build();
    new CitusMetrics({} as ClusterRepository, {} as RebalanceService, metrics);
    const own = metrics.registry
      .getMetricsAsArray()
      .map((metric) => metric.name)
      .filter(
        (name) => !/^(process|nodejs)_/.test(name) || name === 'nodejs_eventloop_lag_seconds',
      );
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'metrics.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Series'), doc.indexOf('## What to alert on'));
    const documented = [...table.matchAll(/^\| `([a-z_]+)` /gm)].map(([, name]) => name);
    expect(documented.sort()).toEqual(own.sort());
  });

  describe(recordRequests.name, () => {
    let instance: FastifyInstance;

    afterEach(() => instance.close());

    const serve = async (metrics: MetricsService) => {
      instance = Fastify();
      recordRequests(instance, metrics);
      instance.get('/api/v1/notes/:id', (request, reply) =>
        (request.params as { id: string }).id === 'bad'
          ? reply.code(400).send({ code: 'VALIDATION_FAILED' })
          : reply.send({ ok: true }),
      );
      await instance.ready();
    };

    it('should count and time requests by method, route pattern and status', async () => {
      const metrics = build();
      await serve(metrics);
      await instance.inject({ method: 'GET', url: '/api/v1/notes/1' });
      await instance.inject({ method: 'GET', url: '/api/v1/notes/2?x=1' });
      await instance.inject({ method: 'GET', url: '/api/v1/notes/bad' });
      await instance.inject({ method: 'DELETE', url: '/no/such/route/42' });
      const route = '/api/v1/notes/:id';
      expect(await samples(metrics, 'http_requests_total')).toEqual([
        { labels: { method: 'GET', route, status: '200' }, value: 2 },
        { labels: { method: 'GET', route, status: '400' }, value: 1 },
        { labels: { method: 'DELETE', route: 'unmatched', status: '404' }, value: 1 },
      ]);
      const timings = await metrics.registry.getSingleMetricAsString(
        'http_request_duration_seconds',
      );
      for (const line of [
        `_count{method="GET",route="${route}",status="200"} 2`,
        `_count{method="GET",route="${route}",status="400"} 1`,
        `_count{method="DELETE",route="unmatched",status="404"} 1`,
      ]) {
        expect(timings).toContain(`http_request_duration_seconds${line}`);
      }
    });

    it('should add no hook when metrics are off', async () => {
      const metrics = build(false);
      await serve(metrics);
      await instance.inject({ method: 'GET', url: '/api/v1/notes/1' });
      expect(await samples(metrics, 'http_requests_total')).toEqual([]);
    });
  });
});
