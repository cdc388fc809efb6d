import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { CitusMode, startLocalCluster, stopLocalCluster } from '../tools/db/local-cluster';
import { freePort } from '../test/harness/test-database';

export interface BenchDatabase {
  url: string;
  citus: boolean;
  workers: number;
  /** `SELECT version()` and, on Citus, `citus_version()`: printed with every result. */
  versions: string[];
  stop: () => void;
}

/**
 * BENCH_DATABASE_URL when given (migrated, then used as is), otherwise a throwaway local cluster:
 * a Citus coordinator + 2 workers when the extension is installed, else one PostgreSQL. The
 * cluster keeps PostgreSQL's durable defaults unless `fast` is set (the suite's smoke run).
 */
export async function benchDatabase(options: {
  name: string;
  fast: boolean;
  log: (message: string) => void;
  /** Run these migrations only (a database at an earlier release); all of them by default. */
  migrations?: Array<new () => object>;
}): Promise<BenchDatabase> {
  let url = process.env.BENCH_DATABASE_URL;
  let stop = (): void => undefined;
  if (!url) {
    const dir = resolve(__dirname, '..', '.db', `${options.name}-${process.pid}`);
    const ports = [await freePort(), await freePort(), await freePort()];
    const state = await startLocalCluster({
      dir,
      basePort: ports[0],
      ports,
      database: 'notes_bench',
      citus: (process.env.CITUS ?? 'auto').toLowerCase() as CitusMode,
      workers: 2,
      fast: options.fast,
      log: options.log,
    });
    url = state.url;
    stop = () => {
      if (process.env.BENCH_KEEP_DB === '1') {
        options.log(`BENCH_KEEP_DB=1: leaving ${state.url} running in ${state.dir}`);
        return;
      }
      stopLocalCluster(dir, { destroy: true, log: options.log });
    };
  }
  try {
    const dataSource = new DataSource({
      ...buildDataSourceOptions({ url, poolSize: 1 }),
      ...(options.migrations ? { migrations: options.migrations } : {}),
      logging: false,
    });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.destroy();

    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const versions = [((await client.query('SELECT version() AS v')).rows[0] as { v: string }).v];
      const citus =
        (await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`)).rowCount === 1;
      let workers = 0;
      if (citus) {
        versions.push(
          ((await client.query('SELECT citus_version() AS v')).rows[0] as { v: string }).v,
        );
        const nodes = await client.query<{ count: string }>(
          `SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND groupid <> 0`,
        );
        workers = Number(nodes.rows[0].count);
      }
      return { url, citus, workers, versions, stop };
    } finally {
      await client.end();
    }
  } catch (error) {
    stop();
    throw error;
  }
}

export const RESULTS_DIR = join(__dirname, 'results');
