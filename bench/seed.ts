import { Client } from 'pg';
import { nameKey } from '../src/names/names';

/**
 * Bench rows use explicit ids in a high range of their own, so a bench can share a database with
 * other data (BENCH_DATABASE_URL), never collides with the id sequences, and pgbench can compute
 * a tenant's note ids with arithmetic: note k of bench tenant i is NOTE_BASE + i * NOTE_STRIDE + k.
 */
export const TENANT_BASE = 8_000_000_000_000;
export const USER_BASE = 8_000_000_000_000;
export const NOTE_BASE = 1_000_000_000_000_000;
export const NOTE_STRIDE = 10_000_000;
const RANGE = 1_000_000_000;

export const BENCH_PASSWORD = 'bench password, not a secret';

export interface BenchTenant {
  index: number;
  id: string;
  userId: string;
  email: string;
  /** Seeded notes are k = 1..notes. */
  notes: number;
}

export const tenantId = (index: number): string => String(TENANT_BASE + index);
export const userId = (index: number): string => String(USER_BASE + index);
export const noteId = (index: number, k: number): string =>
  String(NOTE_BASE + index * NOTE_STRIDE + k);
export const emailOf = (index: number): string => `bench-${index}@bench.example`;

/** Removes every row a previous bench run left in its id ranges. */
export async function clearBenchRows(client: Client): Promise<void> {
  const range = [TENANT_BASE, TENANT_BASE + RANGE];
  for (const table of ['notes', 'invitations', 'sessions', 'login_directory', 'users']) {
    await client.query(`DELETE FROM ${table} WHERE tenant_id >= $1 AND tenant_id < $2`, range);
  }
  await client.query(`DELETE FROM tenants WHERE id >= $1 AND id < $2`, range);
  await client.query(`DELETE FROM accounts WHERE email LIKE 'bench-%@bench.example'`);
}

/** Tenants [from, to) with one owner each, who can log in with BENCH_PASSWORD. */
export async function seedTenants(
  client: Client,
  from: number,
  to: number,
  passwordHash: string,
): Promise<void> {
  const args = [TENANT_BASE, USER_BASE, from, to - 1];
  // The look-alike keys are computed in TypeScript only (src/names/names.ts).
  const indexes = Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
  const tenantNames = indexes.map((i) => `Bench tenant ${i}`);
  const usernames = indexes.map((i) => `bench${i}`);
  await client.query(
    `INSERT INTO tenants (id, name, name_key)
     SELECT $1::bigint + i, name, name_key FROM unnest($2::int[], $3::text[], $4::text[]) AS t(i, name, name_key)`,
    [TENANT_BASE, indexes, tenantNames, tenantNames.map(nameKey)],
  );
  await client.query(
    `INSERT INTO users (tenant_id, id, username, username_key, email, role)
     SELECT $1::bigint + i, $2::bigint + i, username, username_key, 'bench-' || i || '@bench.example', 'owner'
       FROM unnest($3::int[], $4::text[], $5::text[]) AS u(i, username, username_key)`,
    [TENANT_BASE, USER_BASE, indexes, usernames, usernames.map(nameKey)],
  );
  await client.query(
    `INSERT INTO accounts (email, password_hash, email_verified_at)
     SELECT 'bench-' || i || '@bench.example', $3, now() FROM generate_series($1::int, $2::int) i`,
    [from, to - 1, passwordHash],
  );
  await client.query(
    `INSERT INTO login_directory (email, tenant_id, user_id)
     SELECT 'bench-' || i || '@bench.example', $1::bigint + i, $2::bigint + i
       FROM generate_series($3::int, $4::int) i`,
    args,
  );
}

/** Notes k = fromK..toK for each tenant in [from, to), in batches of about `batch` rows. */
export async function seedNotes(
  client: Client,
  tenants: { from: number; to: number },
  notes: { fromK: number; toK: number },
  log?: (message: string) => void,
  batch = 200_000,
): Promise<number> {
  const perTenant = notes.toK - notes.fromK + 1;
  if (perTenant <= 0 || tenants.to <= tenants.from) return 0;
  const tenantsPerBatch = Math.max(1, Math.floor(batch / perTenant));
  let inserted = 0;
  for (let first = tenants.from; first < tenants.to; first += tenantsPerBatch) {
    const last = Math.min(tenants.to, first + tenantsPerBatch) - 1;
    const result = await client.query(
      `INSERT INTO notes (tenant_id, id, user_id, title, content)
       SELECT $1::bigint + i, $3::bigint + i * $4::bigint + k, $2::bigint + i,
              'Bench note ' || k,
              'Note ' || k || ' of bench tenant ' || i || '. ' || repeat('Lorem ipsum dolor sit amet. ', 6)
         FROM generate_series($5::int, $6::int) i, generate_series($7::int, $8::int) k`,
      [TENANT_BASE, USER_BASE, NOTE_BASE, NOTE_STRIDE, first, last, notes.fromK, notes.toK],
    );
    inserted += result.rowCount ?? 0;
    log?.(`  notes: ${inserted} of ${(tenants.to - tenants.from) * perTenant}`);
  }
  return inserted;
}

export async function analyze(client: Client): Promise<void> {
  for (const table of ['tenants', 'users', 'login_directory', 'notes']) {
    await client.query(`ANALYZE ${table}`);
  }
}
