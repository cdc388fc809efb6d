import { Agent, request } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { Logger } from '@nestjs/common';
import { AppConfig, loadConfig } from '../config/app-config';
import { ClusterSql } from '../database/admin-database';
import { PoolStats } from '../database/pool-stats';
import { MetricsServer } from './metrics-server';
import { MetricsService } from './metrics.service';

const NO_POOL = { inUse: 0, idle: 0, waiting: 0 };

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createTcpServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function config(env: Record<string, string>): AppConfig {
  return loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://localhost/notes', ...env });
}

function build(env: Record<string, string>): { server: MetricsServer; metrics: MetricsService } {
  const appConfig = config(env);
  const metrics = new MetricsService(
    appConfig,
    { app: () => NO_POOL } as unknown as PoolStats,
    { pool: () => NO_POOL } as unknown as ClusterSql,
  );
  return { server: new MetricsServer(appConfig, metrics), metrics };
}

function get(
  port: number,
  path: string,
  options: { method?: string; agent?: Agent } = {},
): Promise<{ status?: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ...options }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () =>
        resolve({ status: response.statusCode, type: response.headers['content-type'], body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe(MetricsServer.name, () => {
  let port: number;
  let server: MetricsServer | undefined;

  beforeEach(async () => {
    port = await freePort();
    // The line saying where metrics listen: checked by the e2e spec, noise here.
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    await server?.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  it('should answer GET /metrics with the registry in its content type, and 404 otherwise', async () => {
    const built = build({ METRICS_PORT: String(port) });
    server = built.server;
    built.metrics.mailFailed();
    await server.onApplicationBootstrap();
    const scrape = await get(port, '/metrics?x=1');
    expect(scrape.status).toBe(200);
    expect(scrape.type).toBe(built.metrics.registry.contentType);
    expect(scrape.body).toContain('mail_failures_total 1');
    expect((await get(port, '/')).status).toBe(404);
    expect((await get(port, '/metrics/')).status).toBe(404);
    expect((await get(port, '/metrics', { method: 'POST' })).status).toBe(404);
  });

  it('should not listen when metrics are off', async () => {
    server = build({ METRICS_ENABLED: 'false', METRICS_PORT: String(port) }).server;
    await server.onApplicationBootstrap();
    await expect(get(port, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('should refuse to boot on a port already taken, naming METRICS_HOST and METRICS_PORT', async () => {
    const taken = createTcpServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    try {
      server = build({ METRICS_PORT: String(port) }).server;
      await expect(server.onApplicationBootstrap()).rejects.toThrow(
        `metrics cannot listen on 127.0.0.1:${port} (METRICS_HOST, METRICS_PORT)`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('should close at shutdown although Prometheus keeps its connection open', async () => {
    server = build({ METRICS_PORT: String(port) }).server;
    await server.onApplicationBootstrap();
    const agent = new Agent({ keepAlive: true });
    try {
      expect((await get(port, '/metrics', { agent })).status).toBe(200);
      await server.onApplicationShutdown();
      await expect(get(port, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
    }
  });
});
