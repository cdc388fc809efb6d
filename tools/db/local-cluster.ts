import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Client } from 'pg';

/**
 * Throwaway PostgreSQL / Citus nodes started from the machine's own server binaries, for
 * development and tests on machines without Docker. With the citus extension installed this is a
 * coordinator plus workers; without it, one plain PostgreSQL.
 */

export type CitusMode = 'auto' | 'on' | 'off';

const PROJECT_ROOT = resolve(__dirname, '..', '..');

export interface ClusterSpec {
  /** Folder that holds every node's data directory and the state file. */
  dir: string;
  /** Coordinator port; workers take the following ports unless `ports` is given. */
  basePort: number;
  ports?: number[];
  database: string;
  citus: CitusMode;
  workers: number;
  /**
   * Further workers started (with the database and the extension) but not added to the
   * cluster, for an operator to add later (`POST /api/v1/admin/citus/nodes`).
   */
  spareWorkers?: number;
  /**
   * Trades crash safety for speed (fsync and full_page_writes off): fine for throwaway test data,
   * never for real data. Commits stay synchronous, as in production: with synchronous_commit off,
   * Citus' logical shard transfers can leave acknowledged writes behind
   * (docs/citus-logical-move-write-loss.md).
   */
  fast: boolean;
  log?: (message: string) => void;
}

export interface ClusterNode {
  name: string;
  port: number;
  dataDir: string;
}

export interface ClusterState {
  dir: string;
  database: string;
  citus: boolean;
  nodes: ClusterNode[];
  /** Names of the nodes left out of the cluster's metadata at creation (spare workers). */
  spares?: string[];
  url: string;
}

const STATE_FILE = 'cluster.json';

/**
 * Server settings every node gets, here and in docker-compose.yml (a test keeps the two in step).
 * Logical replication lets shards move and tenants be isolated; stat_tenants_track feeds the
 * per-tenant load the admin API shows, for the 1,000 busiest tenants (Citus' default of 100 lets
 * a tenant with some traffic drop out of the console's list beside a hundred busier ones; the
 * larger list costs about 1 MB of shared memory).
 */
export const SHARED_SERVER_SETTINGS: Readonly<Record<string, string>> = {
  wal_level: 'logical',
  max_connections: '200',
  max_wal_senders: '10',
  max_replication_slots: '10',
  max_prepared_transactions: '200',
  'citus.stat_tenants_track': 'all',
  'citus.stat_tenants_limit': '1000',
};
const HOST = '127.0.0.1';

export function findPgBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PG_BINDIR) return env.PG_BINDIR;
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    for (const version of ['17', '16', '15']) {
      const dir = `/usr/lib/postgresql/${version}/bin`;
      if (existsSync(join(dir, 'initdb'))) return dir;
    }
  }
  throw new Error(
    'PostgreSQL server binaries not found: install PostgreSQL (initdb, pg_ctl) or set PG_BINDIR, ' +
      'or point the project at a running database with DATABASE_URL / TEST_DATABASE_URL',
  );
}

/**
 * One line on how to get Citus, for a machine that lacks it: the build script beside this
 * checkout where there is one (this project's build machines), Citus's own packages or the
 * Compose file elsewhere.
 */
export function howToGetCitus(projectRoot: string): string {
  const script = resolve(projectRoot, '..', 'shared', 'citus', 'install.sh');
  return existsSync(script)
    ? `to get a Citus cluster, run ${relative(process.cwd(), script) || script} (builds and installs Citus, a few minutes), then start again`
    : 'to get a Citus cluster, install Citus for this PostgreSQL (https://docs.citusdata.com/en/stable/installation/multi_node.html) or use docker-compose.yml';
}

export function citusAvailable(bindir: string): boolean {
  try {
    const pgConfig = join(bindir, 'pg_config');
    const libdir = execFileSync(existsSync(pgConfig) ? pgConfig : 'pg_config', ['--pkglibdir'], {
      encoding: 'utf8',
    }).trim();
    return existsSync(join(libdir, 'citus.so'));
  } catch {
    return false;
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** PostgreSQL refuses to run as root, so as root every server command runs as `postgres`. */
function runServerCommand(bin: string, args: string[]): void {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `${bin} ${args.join(' ')} failed (exit ${result.status ?? 'signal'}):\n${result.stderr || result.stdout}`,
    );
  }
}

function serverHasSetting(bindir: string, name: string): boolean {
  const postgres = join(bindir, 'postgres');
  const [cmd, argv] = isRoot()
    ? ['runuser', ['-u', 'postgres', '--', postgres, '--describe-config']]
    : [postgres, ['--describe-config']];
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  return (
    result.status === 0 && result.stdout.split('\n').some((line) => line.startsWith(`${name}\t`))
  );
}

function postgresCanUse(dir: string): boolean {
  if (!isRoot()) return true;
  return spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]).status === 0;
}

/**
 * The data folder the caller asked for, or, when the `postgres` user cannot reach it (a checkout
 * under /root, say), a folder under the system temp dir derived from it.
 */
export function resolveClusterDir(requested: string, log: (m: string) => void): string {
  const dir = resolve(requested);
  mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    if (!postgresCanUse(dir)) {
      const fallback = join(
        tmpdir(),
        `notes-db-${createHash('sha1').update(dir).digest('hex').slice(0, 10)}`,
      );
      mkdirSync(fallback, { recursive: true });
      chownSync(fallback, uid, gid);
      log(`the postgres user cannot reach ${dir}; using ${fallback} instead`);
      return fallback;
    }
  }
  return dir;
}

function nodeSettings(
  spec: Pick<ClusterSpec, 'fast'>,
  bindir: string,
  port: number,
  citus: boolean,
): string {
  const lines = [
    `listen_addresses = '${HOST}'`,
    `port = ${port}`,
    // TCP only: socket paths under deep checkouts overflow the 107-byte limit.
    `unix_socket_directories = ''`,
    `logging_collector = off`,
    `log_min_messages = warning`,
    ...Object.entries(SHARED_SERVER_SETTINGS)
      .filter(([name]) => citus || !name.startsWith('citus.'))
      .map(([name, value]) => `${name} = '${value}'`),
  ];
  if (citus) {
    lines.push(`shared_preload_libraries = 'citus'`);
    // Newer PostgreSQL 15 minors only allow listed logical decoding plugins; Citus' shard split
    // (tenant isolation) decodes with its own. Older servers lack the setting and would refuse it.
    if (serverHasSetting(bindir, 'output_plugin_libraries')) {
      lines.push(`output_plugin_libraries = 'pgoutput, test_decoding, citus'`);
    }
  }
  if (spec.fast) {
    lines.push(`fsync = off`, `full_page_writes = off`);
  }
  return `\n# added by tools/db/local-cluster.ts\n${lines.join('\n')}\n`;
}

export function readClusterState(dir: string): ClusterState | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

function urlFor(port: number, database: string): string {
  return `postgresql://postgres@${HOST}:${port}/${database}`;
}

async function withClient<T>(
  port: number,
  database: string,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ host: HOST, port, user: 'postgres', database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function serverRunning(bindir: string, dataDir: string): boolean {
  const pgCtl = join(bindir, 'pg_ctl');
  const args = ['-D', dataDir, 'status'];
  const [cmd, argv] = isRoot()
    ? ['runuser', ['-u', 'postgres', '--', pgCtl, ...args]]
    : [pgCtl, args];
  return spawnSync(cmd, argv).status === 0;
}

export async function startLocalCluster(spec: ClusterSpec): Promise<ClusterState> {
  const log = spec.log ?? ((m: string) => console.log(`[db] ${m}`));
  const bindir = findPgBinDir();
  const installed = citusAvailable(bindir);
  if (spec.citus === 'on' && !installed) {
    throw new Error(
      `CITUS=on but the citus extension is not installed for these PostgreSQL binaries: ${howToGetCitus(PROJECT_ROOT)}`,
    );
  }
  const citus = spec.citus !== 'off' && installed;
  const dir = resolveClusterDir(spec.dir, log);

  const existing = readClusterState(dir);
  const workerCount = citus ? spec.workers : 0;
  const spareCount = citus ? (spec.spareWorkers ?? 0) : 0;
  const ports =
    existing?.nodes.map((n) => n.port) ??
    spec.ports ??
    Array.from({ length: workerCount + spareCount + 1 }, (_, i) => spec.basePort + i);
  const nodes: ClusterNode[] =
    existing?.nodes ??
    ports.slice(0, workerCount + spareCount + 1).map((port, i) => ({
      name: i === 0 ? 'coordinator' : `worker${i}`,
      port,
      dataDir: join(dir, i === 0 ? 'coordinator' : `worker${i}`),
    }));
  const fresh = !existing;
  const spares = existing?.spares ?? nodes.slice(workerCount + 1).map((n) => n.name);

  log(
    citus
      ? `citus extension found: coordinator + ${workerCount} worker(s) on ports ${nodes.map((n) => n.port).join(', ')}` +
          (spares.length > 0 ? ` (not added to the cluster: ${spares.join(', ')})` : '')
      : `citus extension ${installed ? 'disabled' : 'not installed'}: one plain PostgreSQL on port ${nodes[0].port}`,
  );
  if (!installed) log(howToGetCitus(PROJECT_ROOT));

  for (const node of nodes) {
    startNodeServer(spec, bindir, node, citus);
  }

  if (fresh) {
    for (const node of nodes) {
      await withClient(node.port, 'postgres', async (c) => {
        await c.query(`CREATE DATABASE "${spec.database}"`);
      });
      if (citus) {
        await withClient(node.port, spec.database, (c) => c.query('CREATE EXTENSION citus'));
      }
    }
    if (citus) {
      const [coordinator, ...workers] = nodes;
      await withClient(coordinator.port, spec.database, async (c) => {
        await c.query('SELECT citus_set_coordinator_host($1, $2)', [HOST, coordinator.port]);
        for (const worker of workers.filter((w) => !spares.includes(w.name))) {
          await c.query('SELECT citus_add_node($1, $2)', [HOST, worker.port]);
        }
      });
    }
  }

  const state: ClusterState = {
    dir,
    database: spec.database,
    citus,
    nodes,
    ...(spares.length > 0 ? { spares } : {}),
    url: urlFor(nodes[0].port, spec.database),
  };
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
  log(`ready: ${state.url}`);
  return state;
}

/** Creates the node's data directory on first use, then starts it unless it already runs. */
function startNodeServer(
  spec: Pick<ClusterSpec, 'fast'>,
  bindir: string,
  node: ClusterNode,
  citus: boolean,
): void {
  if (!existsSync(join(node.dataDir, 'PG_VERSION'))) {
    runServerCommand(join(bindir, 'initdb'), [
      '-D',
      node.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
    const conf = join(node.dataDir, 'postgresql.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8') + nodeSettings(spec, bindir, node.port, citus));
  }
  if (!serverRunning(bindir, node.dataDir)) {
    runServerCommand(join(bindir, 'pg_ctl'), [
      '-D',
      node.dataDir,
      '-l',
      join(node.dataDir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }
}

/**
 * Stops one node of a running cluster, as an outage would: `fast` ends its sessions cleanly,
 * `immediate` is a crash (recovery on the next start).
 */
export function stopClusterNode(node: ClusterNode, mode: 'fast' | 'immediate' = 'fast'): void {
  runServerCommand(join(findPgBinDir(), 'pg_ctl'), ['-D', node.dataDir, '-m', mode, '-w', 'stop']);
}

/** Starts a node of an existing cluster again (after stopClusterNode). */
export function startClusterNode(node: ClusterNode): void {
  const bindir = findPgBinDir();
  if (!existsSync(join(node.dataDir, 'PG_VERSION'))) {
    throw new Error(`${node.name} has no data directory at ${node.dataDir}`);
  }
  startNodeServer({ fast: true }, bindir, node, true);
}

export function stopLocalCluster(
  dir: string,
  options: { destroy: boolean; log?: (m: string) => void },
): void {
  const log = options.log ?? ((m: string) => console.log(`[db] ${m}`));
  dir = resolveClusterDir(dir, log);
  const state = readClusterState(dir);
  if (!state) {
    log(`no cluster in ${dir}`);
  } else {
    const bindir = findPgBinDir();
    // Workers first: the coordinator may still hold connections to them.
    for (const node of [...state.nodes].reverse()) {
      if (serverRunning(bindir, node.dataDir)) {
        runServerCommand(join(bindir, 'pg_ctl'), ['-D', node.dataDir, '-m', 'fast', '-w', 'stop']);
        log(`stopped ${node.name} (port ${node.port})`);
      }
    }
  }
  if (options.destroy) {
    rmSync(dir, { recursive: true, force: true });
    log(`removed ${dir}`);
  }
}
