import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Client } from 'pg';
import { SHARED_SERVER_SETTINGS } from '../tools/db/local-cluster';
import { DEFAULT_CITUS_IMAGE } from './harness/database-choice';
import { citusMode } from './harness/e2e';

const ROOT = resolve(__dirname, '..');
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const hasDockerCompose =
  spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

/** Skipped (and counted by the summary reporter) where docker-compose is not installed. */
const describeCompose: jest.Describe = hasDockerCompose ? describe : describe.skip;

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: Array<string | { source?: string; target?: string }>;
  healthcheck?: { test: string[] };
  ports?: Array<{ published: number | string; target: number; host_ip?: string } | string>;
  profiles?: string[];
}

function composeConfig(
  env: Record<string, string>,
  options: string[] = [],
): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const result = spawnSync('docker-compose', [...options, '-f', COMPOSE_FILE, 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    // Only what the file asks for, so a missing variable is noticed rather than inherited.
    env: { PATH: process.env.PATH, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function settingsOf(service: ComposeService): Record<string, string> {
  const command = service.command ?? [];
  const settings: Record<string, string> = {};
  command.forEach((arg, i) => {
    if (arg === '-c') {
      const [name, ...value] = command[i + 1].split('=');
      settings[name] = value.join('=');
    }
  });
  return settings;
}

describeCompose('[compose] docker-compose.yml, checked by docker-compose itself', () => {
  const env = { POSTGRES_PASSWORD: 'compose-test-password', JWT_SECRET: 'j'.repeat(40) };
  let services: Record<string, ComposeService>;

  beforeAll(() => {
    const result = composeConfig(env);
    if (result.status !== 0) throw new Error(`docker-compose config failed:\n${result.stderr}`);
    services = (parse(result.stdout) as { services: Record<string, ComposeService> }).services;
  });

  it('[compose] should be valid and define the cluster, its one-shot steps and the API', () => {
    // Without a profile (docker-compose 1.x lists profiled services too, with their profiles).
    const started = Object.keys(services).filter((name) => !services[name].profiles);
    expect(started.sort()).toEqual(
      [
        'api',
        'cluster-init',
        'coordinator',
        'mail',
        'migrate',
        'redis',
        'worker1',
        'worker2',
      ].sort(),
    );
    for (const node of ['coordinator', 'worker1', 'worker2']) {
      expect(services[node].image).toMatch(/^citusdata\/citus:/);
      expect(services[node].healthcheck?.test.join(' ')).toContain('pg_isready');
    }
    expect(services['cluster-init'].depends_on).toEqual({
      coordinator: { condition: 'service_healthy' },
      worker1: { condition: 'service_healthy' },
      worker2: { condition: 'service_healthy' },
    });
    expect(services.migrate.depends_on).toEqual({
      'cluster-init': { condition: 'service_completed_successfully' },
    });
    expect(services.api.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      mail: { condition: 'service_started' },
      redis: { condition: 'service_healthy' },
    });
    expect(services.api.environment?.SMTP_URL).toBe('smtp://mail:1025');
    expect(services.api.ports?.[0]).toMatchObject({ target: 3000 });
  });

  it('[compose] should share the rate limits of every API replica through its own Redis', () => {
    expect(services.api.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(services.api.environment?.TRUST_PROXY).toBe('false');
    expect(services.redis.image).toMatch(/^redis:7/);
    expect(services.redis.healthcheck?.test.join(' ')).toContain('redis-cli ping');
    // Counters only: nothing persisted, nothing published outside the compose network.
    expect(services.redis.command).toEqual(['redis-server', '--save', '', '--appendonly', 'no']);
    expect(services.redis.ports).toBeUndefined();
    // Overridable from .env, like the other settings.
    const behindProxy = composeConfig({
      ...env,
      REDIS_URL: 'redis://cache:6379/1',
      TRUST_PROXY: '1',
    });
    const api = (parse(behindProxy.stdout) as { services: Record<string, ComposeService> }).services
      .api;
    expect(api.environment).toMatchObject({ REDIS_URL: 'redis://cache:6379/1', TRUST_PROXY: '1' });
  });

  it('[compose] should refuse to start without the secrets from .env', () => {
    const withoutPassword = composeConfig({ JWT_SECRET: env.JWT_SECRET });
    expect(withoutPassword.status).not.toBe(0);
    expect(withoutPassword.stderr).toContain('POSTGRES_PASSWORD');
    const withoutSecret = composeConfig({ POSTGRES_PASSWORD: env.POSTGRES_PASSWORD });
    expect(withoutSecret.status).not.toBe(0);
    expect(withoutSecret.stderr).toContain('JWT_SECRET');
    const raw = readFileSync(COMPOSE_FILE, 'utf8');
    expect(raw).not.toMatch(/^\s*[A-Z_]*PASSWORD:[ \t]*[^$\s{]/m);
    expect(raw).not.toMatch(/^\s*JWT_SECRET:[ \t]*[^$\s{]/m);
  });

  it('[compose] should give every node the same server settings as the local harness', () => {
    for (const node of ['coordinator', 'worker1', 'worker2']) {
      expect({ node, settings: settingsOf(services[node]) }).toEqual({
        node,
        settings: { ...SHARED_SERVER_SETTINGS },
      });
    }
  });

  it('[compose] should run the image testcontainers starts, of the Citus and PostgreSQL the suite runs on', async () => {
    for (const node of ['coordinator', 'worker1', 'worker2', 'cluster-init']) {
      expect({ node, image: services[node].image }).toEqual({ node, image: DEFAULT_CITUS_IMAGE });
    }
    const [, citus, postgres] =
      /^citusdata\/citus:(\d+\.\d+)\.\d+-pg(\d+)$/.exec(DEFAULT_CITUS_IMAGE) ?? [];
    const db = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    await db.connect();
    try {
      const server = await db.query(
        `SELECT current_setting('server_version_num')::int / 10000 AS major`,
      );
      expect(String(server.rows[0].major)).toBe(postgres);
      if (citusMode) {
        // Same minor release; the patch level may differ (README, Docker).
        const version = await db.query(
          `SELECT extversion FROM pg_extension WHERE extname = 'citus'`,
        );
        expect(version.rows[0].extversion).toMatch(new RegExp(`^${citus.replace('.', '\\.')}-`));
      }
    } finally {
      await db.end();
    }
  });

  it("[compose] should register workers without the Docker socket and run the project's migrations", () => {
    const init = services['cluster-init'];
    const mounts = JSON.stringify(init.volumes ?? []);
    expect(mounts).not.toContain('docker.sock');
    expect(init.environment?.CITUS_WORKERS).toBe('worker1 worker2');
    expect(readFileSync(join(ROOT, 'docker', 'cluster-init.sh'), 'utf8')).toContain(
      'citus_add_node',
    );

    // The migrate step runs the TypeORM CLI on the data source the app and `npm run migration:run`
    // use, compiled into the image from src/database/data-source.ts with migrations/.
    expect(services.migrate.command).toEqual([
      'node',
      'node_modules/typeorm/cli.js',
      'migration:run',
      '-d',
      'dist/src/database/data-source.js',
    ]);
    expect(existsSync(join(ROOT, 'src', 'database', 'data-source.ts'))).toBe(true);
    expect(services.migrate.build?.dockerfile).toBe('docker/Dockerfile');
    expect(services.api.build?.dockerfile).toBe('docker/Dockerfile');
  });
});

/** Every port a service publishes, whichever syntax docker-compose printed it in. */
function publishedPorts(service: ComposeService): Array<{ host?: string; target: number }> {
  return (service.ports ?? []).map((port) => {
    if (typeof port !== 'string') return { host: port.host_ip, target: port.target };
    // [host_ip:]published:target[/protocol]
    const parts = port.split('/')[0].split(':');
    return { host: parts.length === 3 ? parts[0] : undefined, target: Number(parts.at(-1)) };
  });
}

/** The series docs/metrics.md documents, `a_{b,c}_d` spelled out. */
function documentedSeries(): Set<string> {
  const doc = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const names = [...doc.matchAll(/`([a-z_]+(?:\{[a-z0-9,]+\}[a-z_]*)?)`/g)].map(([, name]) => name);
  return new Set(
    names.flatMap((name) => {
      const braces = /^(.*)\{([^}]+)\}(.*)$/.exec(name);
      return braces ? braces[2].split(',').map((part) => braces[1] + part + braces[3]) : [name];
    }),
  );
}

/** The service's series a PromQL expression reads (histogram suffixes taken off). */
function seriesIn(expr: string): string[] {
  return [
    ...expr.matchAll(/\b((?:http|tenant|login|mail|db|citus|nodejs|process)_[a-z0-9_]+)/g),
  ].map(([, name]) => name.replace(/_(bucket|sum|count)$/, ''));
}

describeCompose('[compose] the monitoring profile: Prometheus and Grafana', () => {
  const env = { POSTGRES_PASSWORD: 'compose-test-password', JWT_SECRET: 'j'.repeat(40) };
  const docker = (...path: string[]) => join(ROOT, 'docker', ...path);
  let services: Record<string, ComposeService>;
  let withoutProfile: Record<string, ComposeService>;

  beforeAll(() => {
    const result = composeConfig(env, ['--profile', 'monitoring']);
    if (result.status !== 0) throw new Error(`docker-compose config failed:\n${result.stderr}`);
    services = (parse(result.stdout) as { services: Record<string, ComposeService> }).services;
    withoutProfile = (
      parse(composeConfig(env).stdout) as { services: Record<string, ComposeService> }
    ).services;
  });

  it('[compose] should run Prometheus and Grafana, pinned, under the monitoring profile only', () => {
    expect(services.prometheus.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(services.grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    for (const name of Object.keys(services)) {
      const monitoring = name === 'prometheus' || name === 'grafana';
      expect({ name, profiles: services[name].profiles }).toEqual({
        name,
        profiles: monitoring ? ['monitoring'] : undefined,
      });
      // docker-compose 2 leaves them out without the profile; 1.x lists them with it.
      expect({ name, profiles: withoutProfile[name]?.profiles }).toEqual({
        name,
        profiles: monitoring ? withoutProfile[name] && ['monitoring'] : undefined,
      });
    }
    // Their own pages on the loopback interface only.
    expect(publishedPorts(services.prometheus)).toEqual([{ host: '127.0.0.1', target: 9090 }]);
    expect(publishedPorts(services.grafana)).toEqual([{ host: '127.0.0.1', target: 3000 }]);
  });

  it('[compose] should open the metrics port on the private network and publish it nowhere', () => {
    const metricsPort = Number(services.api.environment?.METRICS_PORT);
    expect(services.api.environment?.METRICS_HOST).toBe('0.0.0.0');
    expect(metricsPort).toBeGreaterThan(0);
    expect(publishedPorts(services.api)).toEqual([{ host: undefined, target: 3000 }]);
    for (const [name, service] of Object.entries(services)) {
      const published = publishedPorts(service).map((port) => port.target);
      expect({ name, published: published.includes(metricsPort) }).toEqual({
        name,
        published: false,
      });
    }
  });

  it("[compose] should have Prometheus scrape every api replica's metrics port, with its alert rules", () => {
    expect(JSON.stringify(services.prometheus.volumes)).toContain('/etc/prometheus');
    const config = parse(readFileSync(docker('prometheus', 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{
        job_name: string;
        metrics_path: string;
        dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>;
        static_configs?: Array<{ targets: string[] }>;
      }>;
    };
    const port = Number(services.api.environment?.METRICS_PORT);
    const job = config.scrape_configs.find((scrape) => scrape.job_name === 'notes-api');
    expect(job).toMatchObject({
      metrics_path: '/metrics',
      dns_sd_configs: [{ names: ['api'], type: 'A', port }],
    });
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);

    const rules = parse(readFileSync(docker('prometheus', 'alerts.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const documented = documentedSeries();
    const alerts = rules.groups.flatMap((group) => group.rules);
    expect(alerts.length).toBeGreaterThan(0);
    for (const { alert, expr } of alerts) {
      expect({
        alert,
        undocumented: seriesIn(expr).filter((name) => !documented.has(name)),
      }).toEqual({ alert, undocumented: [] });
    }
  });

  it('[compose] should provision Grafana with Prometheus and a dashboard of the documented series', () => {
    const datasources = parse(
      readFileSync(docker('grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
    ) as { datasources: Array<{ uid: string; type: string; url: string }> };
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' }),
    ]);
    const uid = datasources.datasources[0].uid;

    const providers = parse(
      readFileSync(docker('grafana', 'provisioning', 'dashboards', 'notes-service.yml'), 'utf8'),
    ) as { providers: Array<{ options: { path: string } }> };
    const mounts = JSON.stringify(services.grafana.volumes);
    expect(mounts).toContain(`:${providers.providers[0].options.path}`);
    expect(mounts).toContain(':/etc/grafana/provisioning');

    const dashboard = JSON.parse(
      readFileSync(docker('grafana', 'dashboards', 'notes-service.json'), 'utf8'),
    ) as {
      panels: Array<{
        title: string;
        datasource: { uid: string };
        targets: Array<{ expr: string }>;
      }>;
    };
    const documented = documentedSeries();
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      expect({ panel: panel.title, uid: panel.datasource.uid }).toEqual({
        panel: panel.title,
        uid,
      });
      for (const { expr } of panel.targets) {
        const series = seriesIn(expr);
        expect({
          panel: panel.title,
          undocumented: series.filter((s) => !documented.has(s)),
        }).toEqual({ panel: panel.title, undocumented: [] });
        series.forEach((name) => used.add(name));
      }
    }
    expect([...used].sort()).toEqual(
      expect.arrayContaining([
        'citus_node_up',
        'citus_rebalance_running',
        'db_pool_connections',
        'http_request_duration_seconds',
        'http_requests_shed_total',
        'http_requests_total',
        'nodejs_eventloop_lag_p99_seconds',
        'tenant_requests_limited_total',
      ]),
    );
  });
});

describe('docker/Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');

  it('should build in stages, ship production dependencies only and run as a non-root user', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/health\/ready/m);
    expect(dockerfile).toMatch(/COPY --from=build/);
  });

  it('should keep local databases, dependencies and secrets out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.db', '.env', 'dist']));
  });
});
