import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import {
  CitusMode,
  ClusterNode,
  SHARED_SERVER_SETTINGS,
  startClusterNode,
  startLocalCluster,
  stopClusterNode,
  stopLocalCluster,
} from '../../tools/db/local-cluster';
import { DatabaseChoice } from './database-choice';
import { freePort } from './free-port';

export { freePort };

export interface TestDatabase {
  /** Superuser connection for setup and ground-truth checks. */
  url: string;
  /** What the app under test connects with: on Citus, multi-shard queries fail loudly. */
  appUrl: string;
  citus: boolean;
  workers: number;
  stop: () => Promise<void>;
}

const PROJECT_ROOT = resolve(__dirname, '..', '..');

export function log(message: string): void {
  process.stdout.write(`[test-db] ${message}\n`);
}

async function startLocal(): Promise<Omit<TestDatabase, 'appUrl' | 'citus' | 'workers'>> {
  const dir = join(PROJECT_ROOT, '.db', `test-${process.pid}`);
  const ports = [await freePort(), await freePort(), await freePort()];
  const citus = (process.env.CITUS ?? 'auto').toLowerCase() as CitusMode;
  const state = await startLocalCluster({
    dir,
    basePort: ports[0],
    ports,
    database: 'notes_test',
    citus,
    workers: 2,
    fast: true,
    log,
  });
  return {
    url: state.url,
    stop: () => {
      if (process.env.KEEP_TEST_DB === '1') {
        log(`KEEP_TEST_DB=1: leaving ${state.dir} running at ${state.url}`);
        return Promise.resolve();
      }
      stopLocalCluster(dir, { destroy: true, log });
      return Promise.resolve();
    },
  };
}

async function startContainer(
  image: string,
): Promise<Omit<TestDatabase, 'appUrl' | 'citus' | 'workers'>> {
  // Loaded lazily: machines without Docker never need the module's transitive imports.
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  log(`starting ${image} with testcontainers`);
  const container = await new PostgreSqlContainer(image)
    // The same server settings as the local harness and docker-compose.yml.
    .withCommand([
      'postgres',
      ...Object.entries(SHARED_SERVER_SETTINGS).flatMap(([name, value]) => [
        '-c',
        `${name}=${value}`,
      ]),
    ])
    .withDatabase('notes_test')
    .withUsername('postgres')
    .withPassword('postgres')
    .start();
  return {
    url: container.getConnectionUri(),
    stop: async () => {
      await container.stop();
    },
  };
}

async function withDataSource<T>(url: string, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const dataSource = new DataSource({
    ...buildDataSourceOptions({ url, poolSize: 2 }),
    logging: false,
  });
  await dataSource.initialize();
  try {
    return await fn(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Throwaway databases run every migration up, all the way down and up again, so `down()` is
 * exercised on every run. An explicit URL only gets its pending migrations applied.
 */
async function migrate(
  url: string,
  throwaway: boolean,
  containerCitus: boolean,
): Promise<{ citus: boolean; workers: number }> {
  return withDataSource(url, async (ds) => {
    if (containerCitus) await ds.query('CREATE EXTENSION IF NOT EXISTS citus');
    const applied = await ds.runMigrations({ transaction: 'each' });
    log(`applied ${applied.length} migration(s)`);
    if (throwaway) {
      for (let i = 0; i < applied.length; i += 1)
        await ds.undoLastMigration({ transaction: 'each' });
      const reapplied = await ds.runMigrations({ transaction: 'each' });
      log(`reverted and re-applied ${reapplied.length} migration(s)`);
    }
    const citusRows: unknown[] = await ds.query(
      `SELECT 1 FROM pg_extension WHERE extname = 'citus'`,
    );
    if (citusRows.length === 0) return { citus: false, workers: 0 };
    const workerRows: Array<{ count: string }> = await ds.query(
      `SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0`,
    );
    return { citus: true, workers: Number(workerRows[0].count) };
  });
}

/** The app connection sets this on Citus so that any multi-shard statement is an error. */
export function withMultiShardGuard(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', '-c citus.multi_task_query_log_level=error');
  return parsed.toString();
}

export async function startTestDatabase(choice: DatabaseChoice): Promise<TestDatabase> {
  log(`database: ${choice.kind} (${choice.reason})`);
  const started =
    choice.kind === 'url'
      ? { url: choice.url, stop: () => Promise.resolve() }
      : choice.kind === 'testcontainers'
        ? await startContainer(choice.image)
        : await startLocal();
  try {
    const { citus, workers } = await migrate(
      started.url,
      choice.kind !== 'url',
      choice.kind === 'testcontainers',
    );
    return {
      ...started,
      citus,
      workers,
      appUrl: citus ? withMultiShardGuard(started.url) : started.url,
    };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/** A Citus cluster of a spec's own, for tests that stop nodes or change its shape. */
export interface DedicatedCluster {
  url: string;
  appUrl: string;
  /** Coordinator first, then the workers in the cluster, then the spare ones. */
  nodes: ClusterNode[];
  node: (name: string) => ClusterNode;
  /** An outage of one node (`fast`: sessions end cleanly; `immediate`: a crash). */
  stopNode: (name: string, mode?: 'fast' | 'immediate') => void;
  startNode: (name: string) => void;
  stop: () => void;
}

/**
 * Starts a coordinator with `workers` workers (and `spareWorkers` started but not added) from
 * the local binaries on free ports, and applies the migrations. Only where Citus is installed.
 */
export async function startDedicatedCluster(
  name: string,
  shape: { workers: number; spareWorkers: number; shardCount?: number },
): Promise<DedicatedCluster> {
  const dir = join(PROJECT_ROOT, '.db', `test-${process.pid}-${name}`);
  const ports: number[] = [];
  for (let i = 0; i <= shape.workers + shape.spareWorkers; i += 1) ports.push(await freePort());
  const state = await startLocalCluster({
    dir,
    basePort: ports[0],
    ports,
    database: 'notes_test',
    citus: 'on',
    workers: shape.workers,
    spareWorkers: shape.spareWorkers,
    fast: true,
    log: (message) => log(`${name}: ${message}`),
  });
  const stop = () => stopLocalCluster(dir, { destroy: true, log: (m) => log(`${name}: ${m}`) });
  try {
    if (shape.shardCount) {
      // Fewer shard groups than the default 32: fewer moves for a drill to wait for.
      await withDataSource(state.url, (ds) =>
        ds.query(`ALTER DATABASE notes_test SET citus.shard_count = ${shape.shardCount}`),
      );
    }
    await withDataSource(state.url, (ds) => ds.runMigrations({ transaction: 'each' }));
  } catch (error) {
    stop();
    throw error;
  }
  const node = (nodeName: string): ClusterNode => {
    const found = state.nodes.find((n) => n.name === nodeName);
    if (!found) throw new Error(`${name} has no node ${nodeName}`);
    return found;
  };
  return {
    url: state.url,
    appUrl: withMultiShardGuard(state.url),
    nodes: state.nodes,
    node,
    stopNode: (nodeName, mode) => stopClusterNode(node(nodeName), mode),
    startNode: (nodeName) => startClusterNode(node(nodeName)),
    stop,
  };
}
