import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CitusMode,
  readClusterState,
  resolveClusterDir,
  startLocalCluster,
  stopLocalCluster,
} from './local-cluster';

/**
 * `npm run db:up | db:down | db:status`: the development database. Settings come from the
 * environment so the same command serves a laptop and CI.
 */
const projectRoot = resolve(__dirname, '..', '..');
const dir = process.env.DB_DIR ?? join(projectRoot, '.db', 'dev');
const envFile = join(projectRoot, '.db', 'dev.env');

function citusMode(): CitusMode {
  const raw = (process.env.CITUS ?? 'auto').toLowerCase();
  if (raw === 'auto' || raw === 'on' || raw === 'off') return raw;
  throw new Error(`CITUS must be auto, on or off, got "${raw}"`);
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'up': {
      const state = await startLocalCluster({
        dir,
        basePort: Number(process.env.DB_PORT ?? 54320),
        database: process.env.DB_NAME ?? 'notes',
        citus: citusMode(),
        workers: Number(process.env.CITUS_WORKERS ?? 2),
        // Started but left out of the cluster, for trying `POST /api/v1/admin/citus/nodes`.
        spareWorkers: Number(process.env.CITUS_SPARE_WORKERS ?? 0),
        fast: false,
      });
      writeFileSync(envFile, `DATABASE_URL=${state.url}\nCITUS=${state.citus ? 'on' : 'off'}\n`);
      console.log(`[db] DATABASE_URL=${state.url} (also written to ${envFile})`);
      return;
    }
    case 'down':
      stopLocalCluster(dir, { destroy: process.argv.includes('--destroy') });
      return;
    case 'status': {
      const state = readClusterState(resolveClusterDir(dir, () => undefined));
      console.log(state ? JSON.stringify(state, null, 2) : `no cluster in ${dir}`);
      return;
    }
    default:
      throw new Error('usage: cli.ts up | down [--destroy] | status');
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(`[db] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
