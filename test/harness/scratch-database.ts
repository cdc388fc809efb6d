import { Client } from 'pg';

export interface ScratchDatabase {
  /** Superuser URL of the new database on the coordinator. */
  url: string;
  /** Whether it is a Citus cluster database (coordinator plus the test cluster's workers). */
  citus: boolean;
  drop: () => Promise<void>;
}

function onServer(url: string, host: string, port: number, database: string): string {
  const parsed = new URL(url);
  parsed.hostname = host;
  parsed.port = String(port);
  parsed.pathname = `/${database}`;
  parsed.search = '';
  return parsed.toString();
}

async function run(url: string, statements: string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * A database of its own on the e2e servers, for specs that migrate from empty or from an earlier
 * release. In Citus mode it is a cluster database like the shared one: created on the coordinator
 * and on every worker, with the extension, the coordinator registered and the workers added, so
 * tables are distributed over the same workers. It leaves the shared database's metadata alone.
 */
export async function createScratchDatabase(name: string): Promise<ScratchDatabase> {
  const shared = process.env.E2E_DATABASE_URL;
  if (!shared) throw new Error('E2E_DATABASE_URL is missing: run e2e specs through jest');
  const citus = process.env.E2E_CITUS === '1';
  const coordinator = new URL(shared);
  const coordinatorHost = coordinator.hostname;
  const coordinatorPort = Number(coordinator.port || 5432);
  let workers: Array<{ host: string; port: number }> = [];
  if (citus) {
    const client = new Client({ connectionString: shared });
    await client.connect();
    try {
      const { rows } = await client.query<{ nodename: string; nodeport: number }>(
        `SELECT nodename, nodeport FROM pg_dist_node
          WHERE groupid <> 0 AND noderole = 'primary' AND isactive ORDER BY nodeid`,
      );
      workers = rows.map((row) => ({ host: row.nodename, port: row.nodeport }));
    } finally {
      await client.end();
    }
  }
  const servers = [{ host: coordinatorHost, port: coordinatorPort }, ...workers];
  const drop = async () => {
    // The coordinator first: its connections to the workers' copies end with it.
    for (const server of servers) {
      await run(onServer(shared, server.host, server.port, 'postgres'), [
        `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`,
      ]);
    }
  };
  try {
    for (const server of servers) {
      await run(onServer(shared, server.host, server.port, 'postgres'), [
        `CREATE DATABASE "${name}"`,
      ]);
      if (citus) {
        await run(onServer(shared, server.host, server.port, name), ['CREATE EXTENSION citus']);
      }
    }
    const url = onServer(shared, coordinatorHost, coordinatorPort, name);
    if (citus) {
      await run(url, [
        `SELECT citus_set_coordinator_host('${coordinatorHost}', ${coordinatorPort})`,
        ...workers.map((worker) => `SELECT citus_add_node('${worker.host}', ${worker.port})`),
      ]);
    }
    return { url, citus, drop };
  } catch (error) {
    await drop();
    throw error;
  }
}
