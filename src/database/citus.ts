import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';

/** Anything that runs SQL: a DataSource, an EntityManager or a migration's QueryRunner. */
interface Queryable {
  query(sql: string): Promise<unknown>;
}

/** True when the citus extension is installed in the connected database. */
export async function citusInstalled(db: Queryable): Promise<boolean> {
  const rows = await db.query(`SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus'`);
  return Array.isArray(rows) && rows.length > 0;
}

/**
 * Migrations run unchanged on Citus and on plain PostgreSQL. This decides which, once per
 * migration, and says so in the log so nobody has to guess what a deploy did.
 */
export async function detectCitusForMigration(
  runner: QueryRunner,
  migration: string,
): Promise<boolean> {
  const citus = await citusInstalled(runner);
  const mode = citus
    ? 'citus extension found: distributing tables'
    : 'citus extension not installed: plain PostgreSQL tables, no distribution';
  runner.connection.logger.logMigration(`${migration}: ${mode}`, runner);
  if (citus) {
    // Several distributed DDL statements in one transaction otherwise trip the parallel-DDL check.
    await runner.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
  }
  return citus;
}

/**
 * Whether the service runs on Citus, asked once (extensions do not come and go under a running
 * service). Health, the cluster views and the admin actions all ask here.
 */
@Injectable()
export class CitusDetector {
  private answer?: Promise<boolean>;

  constructor(private readonly dataSource: DataSource) {}

  /** On Citus, whether the coordinator reaches each worker (see probeWorkers). */
  workers(timeoutMs: number): Promise<WorkerReach[] | undefined> {
    return probeWorkers(this.dataSource, timeoutMs);
  }

  installed(): Promise<boolean> {
    this.answer ??= citusInstalled(this.dataSource).catch((error: unknown) => {
      // Not cached: the next call asks again (the database may just have been unreachable).
      this.answer = undefined;
      throw error;
    });
    return this.answer;
  }
}

export interface WorkerReach {
  host: string;
  port: number;
  reachable: boolean;
}

/** Whether the coordinator reaches each worker; undefined when the check takes too long. */
export async function probeWorkers(
  dataSource: DataSource,
  timeoutMs: number,
): Promise<WorkerReach[] | undefined> {
  const probe = dataSource.query<Array<{ nodename: string; nodeport: number; success: boolean }>>(
    `SELECT nodename, nodeport, success FROM run_command_on_workers('SELECT 1')`,
  );
  const rows = await Promise.race([probe, sleep(timeoutMs, undefined, { ref: false })]).catch(
    () => undefined,
  );
  return rows?.map((row) => ({
    host: row.nodename,
    port: Number(row.nodeport),
    reachable: row.success === true,
  }));
}
