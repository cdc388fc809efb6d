import { EntityManager, EntityTarget, FindOperator, ObjectLiteral } from 'typeorm';
import { SqlExecutor, TransactionExecutor } from '../database/sql';
import { quote, ScopedTable } from './scoped-table';
import { TenantContext } from './tenant-context';

export interface TenantOwned extends ObjectLiteral {
  tenantId: string;
}

/** Equality with a value, or one of TypeORM's LessThan / MoreThan / IsNull / Equal operators. */
export type Criterion<V> = V | FindOperator<V>;
export type Where<E> = { [K in keyof E]?: Criterion<E[K]> };
/** New column values; a function returns raw SQL for the value (`() => 'now()'`). */
export type Patch<E> = { [K in keyof E]?: E[K] | (() => string) };

export interface FindOptions<E> {
  order?: { [K in keyof E]?: 'ASC' | 'DESC' };
  limit?: number;
  /** Columns to read; default: every column not marked `select: false`. */
  select?: Array<keyof E & string>;
}

/**
 * The only way services touch tenant-owned tables. Every call reads the tenant from the request
 * context (throwing when there is none), puts `tenant_id = $1` first in every WHERE and stamps it
 * on every insert, so each statement is routed to the tenant's single shard.
 */
export class TenantScopedRepository<E extends TenantOwned> {
  constructor(
    private readonly table: ScopedTable,
    private readonly executor: SqlExecutor,
    private readonly context: TenantContext,
  ) {}

  private tenant(where: object, operation: string): string {
    const { tenantId } = this.context.require(operation);
    if ('tenantId' in where && (where as { tenantId?: unknown }).tenantId !== tenantId) {
      throw new Error(`${operation}: criteria name another tenant`);
    }
    return tenantId;
  }

  async findOne(where: Where<E>, options: Pick<FindOptions<E>, 'select'> = {}): Promise<E | null> {
    const [row] = await this.find(where, { ...options, limit: 1 });
    return row ?? null;
  }

  async find(where: Where<E>, options: FindOptions<E> = {}): Promise<E[]> {
    const operation = `${this.table.name}.find`;
    const tenantId = this.tenant(where, operation);
    const condition = this.table.where(where, operation, 1);
    const order = Object.entries(options.order ?? {}).map(([property, direction]) => {
      if (direction !== 'ASC' && direction !== 'DESC') {
        throw new Error(`${operation}: order must be ASC or DESC`);
      }
      return `${this.table.column(property, operation).sql} ${direction}`;
    });
    const params = [tenantId, ...condition.params];
    if (options.limit !== undefined) params.push(options.limit);
    const key = `find|${options.select?.join(',') ?? '*'}|${condition.shape}|${order.join(',')}|${options.limit !== undefined}`;
    const statement = this.table.statement(
      key,
      () =>
        `SELECT ${this.table.selectList(options.select)} FROM ${quote(this.table.name)} WHERE ${condition.sql}` +
        (order.length ? ` ORDER BY ${order.join(', ')}` : '') +
        (options.limit !== undefined ? ` LIMIT $${params.length}` : ''),
    );
    return (await this.executor.run<E>(statement, params)).rows;
  }

  /** Inserts one row into the current tenant and returns it as stored (ids, defaults). */
  async insert(values: Omit<Partial<E>, 'tenantId'>): Promise<E> {
    const operation = `${this.table.name}.insert`;
    const tenantId = this.tenant({}, operation);
    const entries = (Object.entries(values) as Array<[string, unknown]>).filter(
      ([property, value]) => value !== undefined && property !== 'tenantId',
    );
    const columns = entries.map(([property]) => this.table.column(property, operation).sql);
    const statement = this.table.statement(`insert|${entries.map(([p]) => p).join(',')}`, () => {
      const tenant = this.table.column('tenantId', operation).sql;
      const placeholders = columns.map((_, i) => `$${i + 2}`);
      return (
        `INSERT INTO ${quote(this.table.name)} (${[tenant, ...columns].join(', ')}) ` +
        `VALUES ($1, ${placeholders.join(', ')}) RETURNING ${this.table.selectList()}`
      );
    });
    const { rows } = await this.executor.run<E>(statement, [
      tenantId,
      ...entries.map(([, value]) => value),
    ]);
    return rows[0];
  }

  /** Changes the matching rows of the current tenant and returns them as they are now. */
  async update(where: Where<E>, patch: Patch<E>): Promise<E[]> {
    const operation = `${this.table.name}.update`;
    if ('tenantId' in patch) throw new Error(`${operation}: tenantId cannot change`);
    const tenantId = this.tenant(where, operation);
    const entries = (Object.entries(patch) as Array<[string, unknown]>).filter(
      ([, value]) => value !== undefined,
    );
    if (entries.length === 0) throw new Error(`${operation}: nothing to change`);
    const values = entries
      .filter(([, value]) => typeof value !== 'function')
      .map(([, value]) => value);
    const condition = this.table.where(where, operation, 1 + values.length);
    const shape = entries
      .map(([property, value]) =>
        typeof value === 'function' ? `${property}=${(value as () => string)()}` : property,
      )
      .join(',');
    const statement = this.table.statement(`update|${shape}|${condition.shape}`, () => {
      let next = 1;
      const sets = entries.map(([property, value]) => {
        const column = this.table.column(property, operation).sql;
        return typeof value === 'function'
          ? `${column} = ${(value as () => string)()}`
          : `${column} = $${(next += 1)}`;
      });
      // Like TypeORM's @UpdateDateColumn: every update stamps the time unless the patch sets it.
      for (const column of this.table.updateDateColumns) {
        if (!(column.property in patch)) sets.push(`${column.sql} = now()`);
      }
      return (
        `UPDATE ${quote(this.table.name)} SET ${sets.join(', ')} WHERE ${condition.sql} ` +
        `RETURNING ${this.table.selectList()}`
      );
    });
    const params = [tenantId, ...values, ...condition.params];
    return (await this.executor.run<E>(statement, params)).rows;
  }

  /** Deletes the matching rows of the current tenant; returns how many there were. */
  async delete(where: Where<E>): Promise<number> {
    const operation = `${this.table.name}.delete`;
    const tenantId = this.tenant(where, operation);
    const condition = this.table.where(where, operation, 1);
    const statement = this.table.statement(
      `delete|${condition.shape}`,
      () => `DELETE FROM ${quote(this.table.name)} WHERE ${condition.sql}`,
    );
    return (await this.executor.run(statement, [tenantId, ...condition.params])).rowCount;
  }
}

/**
 * Hands out scoped repositories: on the shared pool by default, or bound to a transaction's
 * EntityManager. Table SQL is built once per entity and shared by both.
 */
export class TenantScopedRepositoryFactory {
  private readonly tables = new Map<EntityTarget<ObjectLiteral>, ScopedTable>();
  private readonly pooled = new Map<
    EntityTarget<ObjectLiteral>,
    TenantScopedRepository<TenantOwned>
  >();

  constructor(
    private readonly manager: EntityManager,
    private readonly pool: SqlExecutor,
    private readonly context: TenantContext,
  ) {}

  private table(entity: EntityTarget<ObjectLiteral>): ScopedTable {
    let table = this.tables.get(entity);
    if (!table) {
      table = new ScopedTable(this.manager.connection.getMetadata(entity));
      this.tables.set(entity, table);
    }
    return table;
  }

  for<E extends TenantOwned>(
    entity: EntityTarget<E>,
    manager?: EntityManager,
  ): TenantScopedRepository<E> {
    if (manager?.queryRunner) {
      return new TenantScopedRepository<E>(
        this.table(entity),
        new TransactionExecutor(manager),
        this.context,
      );
    }
    let repository = this.pooled.get(entity);
    if (!repository) {
      repository = new TenantScopedRepository(this.table(entity), this.pool, this.context);
      this.pooled.set(entity, repository);
    }
    return repository as unknown as TenantScopedRepository<E>;
  }
}
