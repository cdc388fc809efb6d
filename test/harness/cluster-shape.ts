import { Client } from 'pg';

/**
 * The shape of the shared e2e cluster (which shards exist, where they are placed, whether a
 * background job is moving them) is one resource for every spec file, and two spec files run at
 * once. A test that changes it (tenant isolation, a rebalance) holds it exclusively; a test whose
 * assertions read it (ground truth of placements, the operator console's idle state) holds it
 * shared. Either way it starts with no background job running, and a test that changed the shape
 * lets go only once the jobs it started are over. Specs that stop nodes or add and remove them
 * start a cluster of their own instead (startDedicatedCluster); docs/testing.md lists who holds what.
 *
 * The lock is a PostgreSQL advisory lock on the coordinator, so it holds across jest's worker
 * processes, and is released by the server if a worker dies.
 */
export type ShapeUse = 'change' | 'read';

/** 'e2e cluster shape', as one bigint: advisory locks share one key space per database. */
const LOCK_KEY = '7018400290366013440';

/** Citus's states of a background job that has not ended (see pg_dist_background_job). */
const UNFINISHED = `('scheduled', 'running', 'cancelling', 'failing')`;

const JOB_WAIT_MS = 150_000;

/** Runs `fn` holding the cluster's shape for `use`; a no-op wrapper on plain PostgreSQL. */
export async function withClusterShape<T>(use: ShapeUse, fn: () => Promise<T>): Promise<T> {
  if (process.env.E2E_CITUS !== '1') return fn();
  const client = new Client({ connectionString: process.env.E2E_DATABASE_URL });
  await client.connect();
  try {
    const lock = use === 'change' ? 'pg_advisory_lock' : 'pg_advisory_lock_shared';
    await client.query(`SELECT ${lock}($1::bigint)`, [LOCK_KEY]);
    // A job left by a test that failed (or a run outside any lease) is waited for, not read.
    await backgroundJobsOver(client);
    const result = await fn();
    if (use === 'change') await backgroundJobsOver(client);
    return result;
  } finally {
    // Ending the session releases the lock, whatever happened above.
    await client.end();
  }
}

/** Waits until Citus runs no background job (rebalance, drain) on this cluster. */
async function backgroundJobsOver(client: Client): Promise<void> {
  const deadline = Date.now() + JOB_WAIT_MS;
  for (;;) {
    const { rows } = await client.query<{ jobs: string }>(
      `SELECT string_agg(job_id || ' ' || state, ', ') AS jobs FROM pg_dist_background_job
        WHERE state IN ${UNFINISHED}`,
    );
    if (!rows[0].jobs) return;
    if (Date.now() > deadline) {
      throw new Error(`background jobs still unfinished after ${JOB_WAIT_MS} ms: ${rows[0].jobs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A test body that holds the cluster's shape while it runs: `it(name, holdingClusterShape(...))`. */
export function holdingClusterShape(use: ShapeUse, fn: () => Promise<void>): () => Promise<void> {
  return () => withClusterShape(use, fn);
}

/** Room for a test that may first wait for another spec's isolation or rebalance to end. */
export const SHAPE_TEST_TIMEOUT = 240_000;
