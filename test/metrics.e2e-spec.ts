import { ChildProcess } from 'node:child_process';
import { INestApplication } from '@nestjs/common';
import { Pool } from 'pg';
import {
  bearer,
  citusMode,
  createTestApp,
  describeCitus,
  describeLocalCitus,
  groundTruthPool,
  Http,
  register,
} from './harness/e2e';
import { freePort } from './harness/free-port';
import { startServiceProcess } from './harness/service-process';
import { DedicatedCluster, startDedicatedCluster } from './harness/test-database';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not an exposition line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]),
      );
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

/** The value of the one sample with exactly these labels, or undefined. */
function valueOf(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return samples.find(
    (sample) =>
      sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === wanted,
  )?.value;
}

async function scrape(port: number): Promise<{ type: string | null; samples: Sample[] }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  return { type: response.headers.get('content-type'), samples: parse(await response.text()) };
}

describe('Prometheus metrics on a port of their own (e2e)', () => {
  let app: INestApplication;
  let http: () => Http;
  let port: number;
  let db: Pool;

  beforeAll(async () => {
    port = await freePort();
    ({ app, http } = await createTestApp({
      METRICS_ENABLED: 'true',
      METRICS_PORT: String(port),
    }));
    db = groundTruthPool();
  });

  afterAll(async () => {
    await app?.close();
    await db?.end();
  });

  it('should count and time requests by route pattern and status, never by URL', async () => {
    const { token } = await register(http);
    const notes: string[] = [];
    for (const content of ['one', 'two']) {
      const created = await http()
        .post('/api/v1/notes')
        .set(...bearer(token))
        .send({ content });
      notes.push((created.body as { id: string }).id);
    }
    for (const id of notes)
      await http()
        .get(`/api/v1/notes/${id}`)
        .set(...bearer(token))
        .expect(200);
    await http().get('/api/v1/definitely/not/a/route').expect(404);
    await http().get('/api/v1/definitely-not-either').expect(404);
    await http()
      .post('/api/v1/notes')
      .set(...bearer(token))
      .send({ content: '' })
      .expect(400);

    const { type, samples } = await scrape(port);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const route = '/api/v1/notes/:id';
    expect(valueOf(samples, 'http_requests_total', { method: 'GET', route, status: '200' })).toBe(
      2,
    );
    expect(
      valueOf(samples, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
    ).toBe(2);
    expect(
      valueOf(samples, 'http_requests_total', {
        method: 'POST',
        route: '/api/v1/notes',
        status: '400',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'http_requests_total', {
        method: 'POST',
        route: '/api/v1/notes',
        status: '201',
      }),
    ).toBe(2);
    // No route label carries a note id or an unknown path.
    const routes = new Set(samples.map((sample) => sample.labels.route).filter(Boolean));
    const raw = [...routes].filter(
      (label) =>
        label.includes('definitely') || notes.some((id) => label.split('/').includes(String(id))),
    );
    expect(raw).toEqual([]);
    expect(routes).toContain('unmatched');

    const timed = { method: 'GET', route, status: '200' };
    expect(valueOf(samples, 'http_request_duration_seconds_count', timed)).toBe(2);
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { ...timed, le: '+Inf' })).toBe(
      2,
    );
    expect(valueOf(samples, 'http_request_duration_seconds_sum', timed)).toBeGreaterThan(0);
  });

  it('should report both database pools and the event-loop lag', async () => {
    const { samples } = await scrape(port);
    for (const pool of ['app', 'admin']) {
      const read = (state: string) => valueOf(samples, 'db_pool_connections', { pool, state });
      for (const state of ['in_use', 'idle', 'waiting']) {
        expect({ pool, state, value: read(state) }).toEqual({
          pool,
          state,
          value: expect.any(Number) as number,
        });
      }
      // The harness' DB_POOL_SIZE is 5; the admin pool holds 3 at most.
      expect((read('in_use') ?? 0) + (read('idle') ?? 0)).toBeLessThanOrEqual(
        pool === 'app' ? 5 : 3,
      );
    }
    // The app pool has served the requests above; it keeps idle connections for a while.
    expect(valueOf(samples, 'db_pool_connections', { pool: 'app', state: 'idle' })).toBeGreaterThan(
      0,
    );
    expect(valueOf(samples, 'nodejs_eventloop_lag_seconds')).toEqual(expect.any(Number));
  });

  it('should not be reachable through the API port, and answer 404 beside /metrics', async () => {
    const api = await http().get('/metrics').expect(404);
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    expect(api.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    expect(JSON.stringify(api.body)).not.toContain('http_requests_total');
    for (const path of ['/', '/api/v1/notes', '/metrics/x']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
  });

  it('should have Citus samples on Citus only', async () => {
    const { samples } = await scrape(port);
    const names = new Set(
      samples.filter((sample) => sample.name.startsWith('citus_')).map((sample) => sample.name),
    );
    expect([...names].sort()).toEqual(
      citusMode ? ['citus_node_up', 'citus_rebalance_running'] : [],
    );
  });

  describeCitus('[citus] the cluster', () => {
    it('[citus] should report every worker up and whether a rebalance runs', async () => {
      const { rows } = await db.query<{ nodename: string; nodeport: number }>(
        `SELECT nodename, nodeport FROM pg_dist_node
          WHERE noderole = 'primary' AND groupid > 0 ORDER BY nodeid`,
      );
      const { samples } = await scrape(port);
      for (const { nodename, nodeport } of rows) {
        const node = `${nodename}:${nodeport}`;
        expect({ node, up: valueOf(samples, 'citus_node_up', { node }) }).toEqual({ node, up: 1 });
      }
      expect([0, 1]).toContain(valueOf(samples, 'citus_rebalance_running'));
    });
  });
});

/**
 * Node outages on a cluster of this spec's own (the shared one is never stopped): the series
 * follow the nodes, and a scrape still answers while the coordinator is down.
 */
describeLocalCitus('[citus] Prometheus metrics through node outages (e2e)', () => {
  let cluster: DedicatedCluster;
  let app: INestApplication;
  let port: number;
  let nodes: string[];

  beforeAll(async () => {
    cluster = await startDedicatedCluster('metrics', { workers: 2, spareWorkers: 0 });
    port = await freePort();
    ({ app } = await createTestApp({
      DATABASE_URL: cluster.appUrl,
      ADMIN_DATABASE_URL: cluster.url,
      METRICS_ENABLED: 'true',
      METRICS_PORT: String(port),
    }));
    const db = new Pool({ connectionString: cluster.url, max: 1 });
    try {
      const { rows } = await db.query<{ node: string }>(
        `SELECT nodename || ':' || nodeport AS node FROM pg_dist_node
          WHERE noderole = 'primary' ORDER BY nodeid`,
      );
      nodes = rows.map((row) => row.node);
    } finally {
      await db.end();
    }
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    cluster?.stop();
  });

  /** citus_node_up per node, once `done` holds (a probe runs at most every 5 s). */
  async function nodesUntil(
    done: (up: Record<string, number | undefined>) => boolean,
  ): Promise<{ up: Record<string, number | undefined>; samples: Sample[] }> {
    for (let i = 0; ; i += 1) {
      const { samples } = await scrape(port);
      const up = Object.fromEntries(
        nodes.map((node) => [node, valueOf(samples, 'citus_node_up', { node })]),
      );
      if (done(up) || i === 60) return { up, samples };
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const all = (value: number) => (up: Record<string, number | undefined>) =>
    Object.values(up).every((v) => v === value);

  it('[citus] should report a stopped worker down, and every node down while the coordinator is', async () => {
    const worker = cluster.nodes.find((node) => node.name === 'worker2');
    if (!worker) throw new Error('no worker2');
    const workerLabel = nodes.find((node) => node.endsWith(`:${worker.port}`)) ?? '';
    expect((await nodesUntil(all(1))).up).toEqual(
      Object.fromEntries(nodes.map((node) => [node, 1])),
    );

    cluster.stopNode('worker2', 'immediate');
    try {
      const { up } = await nodesUntil((now) => now[workerLabel] === 0);
      expect(up).toEqual(
        Object.fromEntries(nodes.map((node) => [node, node === workerLabel ? 0 : 1])),
      );
    } finally {
      cluster.startNode('worker2');
    }
    await nodesUntil(all(1));

    cluster.stopNode('coordinator', 'fast');
    try {
      const { up, samples } = await nodesUntil(all(0));
      expect(up).toEqual(Object.fromEntries(nodes.map((node) => [node, 0])));
      // What is not known is left out; what is, is still answered.
      expect(valueOf(samples, 'citus_rebalance_running')).toBeUndefined();
      expect(valueOf(samples, 'db_pool_connections', { pool: 'admin', state: 'waiting' })).toBe(0);
    } finally {
      cluster.startNode('coordinator');
    }
    expect((await nodesUntil(all(1))).up).toEqual(
      Object.fromEntries(nodes.map((node) => [node, 1])),
    );
    expect(valueOf((await scrape(port)).samples, 'citus_rebalance_running')).toBe(0);
  }, 120_000);
});

/** WEB_CONCURRENCY=2: the primary serves the metrics port with the sum of both workers. */
describe('Prometheus metrics of several processes (e2e)', () => {
  let child: ChildProcess;
  let output: () => string;
  let base: string;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    const service = await startServiceProcess(
      {
        WEB_CONCURRENCY: '2',
        JWT_SECRET: 'metrics-cluster-test-secret-long-enough',
        SHUTDOWN_DELAY_MS: '0',
        METRICS_ENABLED: 'true',
        METRICS_PORT: String(port),
      },
      // Both workers must be listening: each logs its own line.
      ({ output }) => Promise.resolve((output().match(/"msg":"listening on/g) ?? []).length >= 2),
    );
    ({ child, base, output } = service);
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const pidsServing = () =>
    new Set(
      output()
        .split('\n')
        .filter((line) => line.includes('"msg":"request completed"'))
        .map((line) => (JSON.parse(line) as { pid: number }).pid),
    );

  it('should answer the requests of both workers from one port, which no worker takes', async () => {
    let sent = 0;
    // Fresh connections, so the primary hands them to both workers.
    while (sent < 80 && (sent < 6 || pidsServing().size < 2)) {
      const response = await fetch(`${base}/health`, { headers: { connection: 'close' } });
      expect(response.status).toBe(200);
      sent += 1;
      // The request lines that name the serving process are flushed every 200 ms.
      await new Promise((done) => setTimeout(done, 50));
    }
    expect(pidsServing().size).toBe(2);
    const { samples } = await scrape(port);
    expect(
      valueOf(samples, 'http_requests_total', { method: 'GET', route: '/health', status: '200' }),
    ).toBe(sent);
    expect(valueOf(samples, 'nodejs_eventloop_lag_seconds')).toEqual(expect.any(Number));
    expect(
      valueOf(samples, 'db_pool_connections', { pool: 'app', state: 'waiting' }),
    ).toBeGreaterThanOrEqual(0);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);

    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    await expect(exited).resolves.toBe(0);
  });
});
