import { Pool, QueryConfig } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { currentRequest, TaggedQuery } from './statement-tags';

export interface Statement {
  text: string;
  /** Name of the server-side prepared statement (parsed and planned once per connection). */
  name: string;
}

/** Where a statement runs: the shared pool, or a transaction's connection. */
export interface SqlExecutor {
  run<R>(statement: Statement, params: unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

/**
 * Runs statements straight on the pool TypeORM opened (same connections, same settings),
 * without a query runner per call. With `prepared`, each statement is sent by name, so every
 * connection parses and plans it once; turn it off behind a pooler that cannot keep them
 * (PgBouncer in transaction mode).
 */
export class PoolExecutor implements SqlExecutor {
  constructor(
    private readonly pool: Pool,
    private readonly prepared: boolean,
  ) {}

  async run<R>(statement: Statement, params: unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    // The request is named here: pg-pool may hand the connection over from another request's
    // context (statement-tags.ts).
    const config: QueryConfig & TaggedQuery = this.prepared
      ? { name: statement.name, text: statement.text, values: params }
      : { text: statement.text, values: params };
    config.request = currentRequest();
    const result = await this.pool.query(config);
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  }
}

/** Runs statements on a transaction's connection (TypeORM's query runner, unnamed statements). */
export class TransactionExecutor implements SqlExecutor {
  constructor(private readonly manager: EntityManager) {}

  async run<R>(statement: Statement, params: unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    const runner = this.manager.queryRunner;
    if (!runner) throw new Error('TransactionExecutor needs a transaction-bound EntityManager');
    const result = await runner.query(statement.text, params, true);
    return { rows: result.records as R[], rowCount: result.affected ?? result.records.length };
  }
}

/** The pg pool behind a PostgreSQL DataSource. */
export function poolOf(dataSource: DataSource): Pool {
  const driver = dataSource.driver;
  if (!(driver instanceof PostgresDriver)) throw new Error('the scoped layer needs PostgreSQL');
  return driver.master as Pool;
}
