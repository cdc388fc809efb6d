/**
 * `npm run bench:migrations`: what each migration does to live traffic on a database of the size
 * the README talks about. A database is built at the first release and filled (BENCH_MIG_TENANTS
 * tenants with BENCH_MIG_USERS members each, BENCH_MIG_NOTES notes in all); then every later
 * migration runs in turn, as a deploy would, while clients keep writing notes, listing notes,
 * listing members and looking logins up. For each migration: how long it took, and the longest
 * time one statement of each kind waited while it ran, against the same statement's p99 before.
 *
 * Settings (environment): BENCH_MIG_NOTES (1,000,000), BENCH_MIG_TENANTS (1,000),
 * BENCH_MIG_USERS (10), BENCH_MIG_CLIENTS (2 per kind), CITUS (auto|on|off),
 * BENCH_DATABASE_URL (an empty database to use instead of a throwaway cluster).
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { InitialSchema1795700000000 } from '../migrations/1795700000000-InitialSchema';
import { Operators1795710000000 } from '../migrations/1795710000000-Operators';
import { AccountsAndSessions1795720000000 } from '../migrations/1795720000000-AccountsAndSessions';
import { NameKeys1795730000000 } from '../migrations/1795730000000-NameKeys';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { benchDatabase } from './database';
import { percentile } from './load';
import { log, machine, writeResult } from './world';

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const NOTES = setting('BENCH_MIG_NOTES', 1_000_000);
const TENANTS = setting('BENCH_MIG_TENANTS', 1_000);
const USERS = setting('BENCH_MIG_USERS', 10);
const CLIENTS = setting('BENCH_MIG_CLIENTS', 2);
/** A bcrypt hash (of no password anyone types): the users' rows need one, nobody logs in. */
const HASH = '$2b$04$0000000000000000000000000000000000000000000000000000u';

const LATER = [Operators1795710000000, AccountsAndSessions1795720000000, NameKeys1795730000000];

/**
 * Statements whose shape every release accepts, each for one random tenant: what the service's
 * busiest routes send (a note written, notes listed, members listed, a login looked up).
 */
const KINDS: Record<string, { sql: string; args: (tenant: number) => unknown[] }> = {
  'write a note': {
    sql: `INSERT INTO notes (tenant_id, user_id, content) VALUES ($1, $2, 'written during a migration')`,
    args: (t) => [t, t * USERS],
  },
  'list notes': {
    sql: `SELECT id, title, content FROM notes WHERE tenant_id = $1 ORDER BY id DESC LIMIT 20`,
    args: (t) => [t],
  },
  'list members': {
    sql: `SELECT id, username, email, role FROM users WHERE tenant_id = $1 ORDER BY id LIMIT 50`,
    args: (t) => [t],
  },
  'look a login up': {
    sql: `SELECT tenant_id, user_id FROM login_directory WHERE email = $1`,
    args: (t) => [`user-${t}-1@bench.test`],
  },
};

interface Timed {
  kind: string;
  start: number;
  ms: number;
  error?: string;
}

/** Closed-loop clients, CLIENTS per kind, until stopped; every statement timed. */
async function startLoad(url: string): Promise<{ stop: () => Promise<Timed[]> }> {
  const timings: Timed[] = [];
  let running = true;
  const loops: Promise<void>[] = [];
  const clients: Client[] = [];
  for (const [kind, statement] of Object.entries(KINDS)) {
    for (let i = 0; i < CLIENTS; i += 1) {
      const client = new Client({ connectionString: url });
      await client.connect();
      clients.push(client);
      loops.push(
        (async () => {
          while (running) {
            const tenant = 1 + Math.floor(Math.random() * TENANTS);
            const start = performance.now();
            try {
              await client.query(statement.sql, statement.args(tenant));
              timings.push({ kind, start, ms: performance.now() - start });
            } catch (error) {
              timings.push({ kind, start, ms: performance.now() - start, error: String(error) });
            }
          }
        })(),
      );
    }
  }
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((client) => client.end()));
      return timings;
    },
  };
}

/** The first release's rows: tenants (every tenth one a look-alike of the one before), members, notes. */
async function fill(db: Client): Promise<void> {
  await db.query(
    `INSERT INTO tenants (id, name, created_at)
     SELECT t, CASE WHEN t % 10 = 0 THEN 'Ténant ' || (t - 1) ELSE 'Tenant ' || t END,
            now() - (${TENANTS} - t) * interval '1 minute'
       FROM generate_series(1, ${TENANTS}) t`,
  );
  await db.query(`SELECT setval('tenants_id_seq', ${TENANTS})`);
  await db.query(
    `INSERT INTO users (tenant_id, id, username, email, password_hash, role)
     SELECT t, t * ${USERS} + u - 1, 'user' || u, 'user-' || t || '-' || u || '@bench.test', $1,
            CASE WHEN u = 1 THEN 'owner' ELSE 'member' END
       FROM generate_series(1, ${TENANTS}) t, generate_series(1, ${USERS}) u`,
    [HASH],
  );
  await db.query(`SELECT setval('users_id_seq', ${(TENANTS + 1) * USERS})`);
  await db.query(
    `INSERT INTO login_directory (email, tenant_id, user_id)
     SELECT 'user-' || t || '-' || u || '@bench.test', t, t * ${USERS} + u - 1
       FROM generate_series(1, ${TENANTS}) t, generate_series(1, ${USERS}) u`,
  );
  // In slices, so no statement holds a million rows in flight.
  const slice = Math.max(1, Math.floor(TENANTS / 20));
  for (let first = 1; first <= TENANTS; first += slice) {
    const last = Math.min(TENANTS, first + slice - 1);
    const perTenant = Math.ceil(NOTES / TENANTS);
    await db.query(
      `INSERT INTO notes (tenant_id, user_id, title, content)
       SELECT t, t * ${USERS} + (n % ${USERS}), 'Note ' || n, repeat('lorem ipsum ', 20)
         FROM generate_series(${first}, ${last}) t, generate_series(1, ${perTenant}) n`,
    );
  }
  await db.query('ANALYZE');
}

interface Row {
  migration: string;
  seconds: number;
  kinds: Record<
    string,
    { p99Before: number; longestDuring: number; during: number; errors: number }
  >;
}

async function main(): Promise<void> {
  const database = await benchDatabase({
    name: 'bench-migrations',
    fast: false,
    log,
    migrations: [InitialSchema1795700000000],
  });
  const db = new Client({ connectionString: database.url });
  await db.connect();
  const rows: Row[] = [];
  try {
    log(
      `${database.citus ? `Citus, ${database.workers} workers` : 'plain PostgreSQL'}: filling the first release with ${TENANTS} tenants, ${TENANTS * USERS} members, ${NOTES} notes`,
    );
    const filled = performance.now();
    await fill(db);
    log(`filled in ${((performance.now() - filled) / 1000).toFixed(0)} s`);
    const applied = [InitialSchema1795700000000];
    for (const migration of LATER) {
      applied.push(migration);
      const load = await startLoad(database.url);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const source = new DataSource({
        ...buildDataSourceOptions({ url: database.url, poolSize: 1 }),
        migrations: applied,
        // NameKeys logs a line per renamed row: the bench prints only its figures.
        logger: {
          logQuery: () => undefined,
          logQueryError: () => undefined,
          logQuerySlow: () => undefined,
          logSchemaBuild: () => undefined,
          logMigration: () => undefined,
          log: () => undefined,
        },
      });
      await source.initialize();
      const start = performance.now();
      await source.runMigrations({ transaction: 'each' });
      const end = performance.now();
      await source.destroy();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const timings = await load.stop();
      const name = migration.name;
      const row: Row = { migration: name, seconds: (end - start) / 1000, kinds: {} };
      for (const kind of Object.keys(KINDS)) {
        const mine = timings.filter((t) => t.kind === kind);
        const before = mine
          .filter((t) => t.start + t.ms < start)
          .map((t) => t.ms)
          .sort((a, b) => a - b);
        // Statements that were running at any moment of the migration.
        const during = mine.filter((t) => t.start < end && t.start + t.ms > start);
        row.kinds[kind] = {
          p99Before: percentile(before, 99),
          longestDuring: Math.max(0, ...during.map((t) => t.ms)),
          during: during.length,
          errors: mine.filter((t) => t.error).length,
        };
        const firstError = mine.find((t) => t.error);
        if (firstError) log(`${name}: ${kind}: ${firstError.error}`);
      }
      rows.push(row);
      log(
        `${name}: ${row.seconds.toFixed(2)} s; longest statement during it (p99 before): ` +
          Object.entries(row.kinds)
            .map(
              ([kind, k]) =>
                `${kind} ${k.longestDuring.toFixed(0)} ms (${k.p99Before.toFixed(0)} ms)`,
            )
            .join(', '),
      );
    }
  } finally {
    await db.end();
    database.stop();
  }
  const file = writeResult('migrations', {
    machine: machine(database),
    notes: NOTES,
    tenants: TENANTS,
    members: TENANTS * USERS,
    clientsPerKind: CLIENTS,
    rows,
  });
  log(`result: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
