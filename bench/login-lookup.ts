/**
 * Benchmark: how login finds the tenants of an email.
 *
 *   directory: SELECT ... FROM login_directory WHERE email = $1   (distributed by email: 1 shard)
 *   baseline:  SELECT ... FROM users WHERE email = $1             (distributed by tenant: all shards)
 *
 * Login itself reads the account (accounts, also distributed by email) and then the directory: the
 * same single-shard shape as `directory`.
 *
 * Both run in the same process run, interleaved A/B over several rounds with pgbench, so a noisy
 * machine hurts both alike; the result is reported as a ratio against the baseline.
 *
 *   npm run bench:login                      # throwaway local cluster (Citus when installed)
 *   BENCH_DATABASE_URL=postgres://... npm run bench:login
 *   BENCH_USERS=20000 BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CLIENTS=8 npm run bench:login
 */
import { Client } from 'pg';
import { benchDatabase } from './database';
import { pgbench } from './pgbench';

const log = (message: string): void => console.log(`[bench] ${message}`);

const USERS = Number(process.env.BENCH_USERS ?? 20_000);
const USERS_PER_TENANT = 10;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);

const QUERIES = {
  directory: `SELECT tenant_id, user_id FROM login_directory WHERE email = 'bench' || :n || '@bench.test';`,
  baseline: `SELECT tenant_id, id FROM users WHERE email = 'bench' || :n || '@bench.test';`,
};

async function seed(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const tenants = Math.ceil(USERS / USERS_PER_TENANT);
    await client.query(
      `TRUNCATE login_directory, accounts, notes, invitations, users, tenants CASCADE`,
    );
    // ASCII names: their look-alike keys (src/names) are the lower-case names.
    await client.query(
      `INSERT INTO tenants (id, name, name_key)
       SELECT g, 'bench-' || g, 'bench-' || g FROM generate_series(1, $1) g`,
      [tenants],
    );
    await client.query(
      `INSERT INTO users (tenant_id, id, username, username_key, email, role)
       SELECT (g - 1) / $2 + 1, g, 'bench' || g, 'bench' || g, 'bench' || g || '@bench.test', 'member'
         FROM generate_series(1, $1) g`,
      [USERS, USERS_PER_TENANT],
    );
    await client.query(
      `INSERT INTO accounts (email, password_hash, email_verified_at)
       SELECT 'bench' || g || '@bench.test', 'x', now() FROM generate_series(1, $1) g`,
      [USERS],
    );
    await client.query(
      `INSERT INTO login_directory (email, tenant_id, user_id)
       SELECT 'bench' || g || '@bench.test', (g - 1) / $2 + 1, g FROM generate_series(1, $1) g`,
      [USERS, USERS_PER_TENANT],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function taskCount(url: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const rows = (await client.query(`EXPLAIN ${sql.replace(':n', '1').replace(/;$/, '')}`))
      .rows as Array<Record<string, string>>;
    const line = rows
      .map((row) => Object.values(row)[0])
      .find((text) => text.includes('Task Count'));
    return line ? line.trim() : 'not distributed';
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const db = await benchDatabase({ name: 'bench-login', fast: true, log });
  try {
    const { url, citus } = db;
    console.log(
      `seeding ${USERS} users in ${Math.ceil(USERS / USERS_PER_TENANT)} tenants (citus: ${citus})`,
    );
    await seed(url);
    const scripts: Record<string, string> = {};
    for (const [name, sql] of Object.entries(QUERIES)) {
      scripts[name] = `\\set n random(1, ${USERS})\n${sql}\n`;
      console.log(`${name}: ${await taskCount(url, sql)}`);
    }

    const samples: Record<string, Array<{ tps: number; latencyMs: number }>> = {
      directory: [],
      baseline: [],
    };
    for (let round = 1; round <= ROUNDS; round += 1) {
      // Alternate the order so neither side always runs on a warmer or quieter machine.
      const order = round % 2 === 1 ? ['baseline', 'directory'] : ['directory', 'baseline'];
      for (const name of order) {
        const run = pgbench(url, scripts[name], {
          clients: CLIENTS,
          seconds: SECONDS,
          prepared: false,
        });
        const sample = { tps: run.rps, latencyMs: (CLIENTS * 1000) / Math.max(run.rps, 1e-9) };
        samples[name].push(sample);
        console.log(
          `round ${round} ${name.padEnd(9)} ${sample.tps.toFixed(0).padStart(7)} lookups/s  ${sample.latencyMs.toFixed(2)} ms`,
        );
      }
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const directory = mean(samples.directory.map((s) => s.tps));
    const baseline = mean(samples.baseline.map((s) => s.tps));
    const ratios = samples.directory.map((s, i) => s.tps / samples.baseline[i].tps);
    console.log(
      `\nlogin lookup, ${CLIENTS} clients, ${ROUNDS} x ${SECONDS}s each, ${USERS} users, citus=${citus}\n` +
        `  baseline (users by email):      ${baseline.toFixed(0)} lookups/s, ${mean(samples.baseline.map((s) => s.latencyMs)).toFixed(2)} ms\n` +
        `  login_directory (by email):     ${directory.toFixed(0)} lookups/s, ${mean(samples.directory.map((s) => s.latencyMs)).toFixed(2)} ms\n` +
        `  ratio directory / baseline:     ${(directory / baseline).toFixed(1)}x ` +
        `(per round: ${ratios.map((r) => r.toFixed(1)).join(', ')})`,
    );
  } finally {
    db.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
