import {
  DeepPartial,
  EntityManager,
  EntityTarget,
  FindManyOptions,
  FindOneOptions,
  FindOptionsWhere,
  ObjectLiteral,
  Repository,
} from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { TenantContext } from './tenant-context';

export interface TenantOwned extends ObjectLiteral {
  tenantId: string;
}

type Where<E> = FindOptionsWhere<E>;

/**
 * TypeORM drops `undefined` from a WHERE, which would silently widen a query to every row.
 * Scoped queries refuse such criteria instead (fail closed).
 */
function assertDefined(where: object, operation: string): void {
  for (const [key, value] of Object.entries(where)) {
    if (value === undefined) {
      throw new Error(`${operation}: criterion "${key}" is undefined; refusing to widen the query`);
    }
  }
}

/**
 * The only way services touch tenant-owned tables. Every call reads the tenant from the request
 * context (throwing when there is none), adds `tenant_id = ...` to the WHERE and stamps it on
 * inserts, so each statement is routed to the tenant's single shard.
 */
export class TenantScopedRepository<E extends TenantOwned> {
  constructor(
    private readonly repository: Repository<E>,
    private readonly context: TenantContext,
  ) {}

  private scoped(where: Where<E>, operation: string): Where<E> {
    const { tenantId } = this.context.require(operation);
    assertDefined(where, operation);
    if ('tenantId' in where && where.tenantId !== tenantId) {
      throw new Error(`${operation}: criteria name another tenant`);
    }
    return { ...where, tenantId };
  }

  private get name(): string {
    return this.repository.metadata.tableName;
  }

  tenantId(): string {
    return this.context.require(`${this.name}.tenantId`).tenantId;
  }

  async findOne(
    where: Where<E>,
    options: Omit<FindOneOptions<E>, 'where'> = {},
  ): Promise<E | null> {
    return this.repository.findOne({
      ...options,
      where: this.scoped(where, `${this.name}.findOne`),
    });
  }

  async find(where: Where<E>, options: Omit<FindManyOptions<E>, 'where'> = {}): Promise<E[]> {
    return this.repository.find({ ...options, where: this.scoped(where, `${this.name}.find`) });
  }

  async insert(values: Omit<DeepPartial<E>, 'tenantId'>): Promise<E> {
    const { tenantId } = this.context.require(`${this.name}.insert`);
    const entity = this.repository.create({ ...values, tenantId } as DeepPartial<E>);
    // insert() with RETURNING fills generated columns (id, timestamps) back into the entity.
    await this.repository.insert(entity);
    return entity;
  }

  /** Returns the number of rows changed, so callers can tell "not found" from success. */
  async update(where: Where<E>, patch: QueryDeepPartialEntity<E>): Promise<number> {
    if ('tenantId' in patch) throw new Error(`${this.name}.update: tenantId cannot change`);
    const result = await this.repository.update(this.scoped(where, `${this.name}.update`), patch);
    return result.affected ?? 0;
  }

  async delete(where: Where<E>): Promise<number> {
    const result = await this.repository.delete(this.scoped(where, `${this.name}.delete`));
    return result.affected ?? 0;
  }
}

/** Hands out scoped repositories, optionally bound to a transaction's EntityManager. */
export class TenantScopedRepositoryFactory {
  constructor(
    private readonly manager: EntityManager,
    private readonly context: TenantContext,
  ) {}

  for<E extends TenantOwned>(
    entity: EntityTarget<E>,
    manager: EntityManager = this.manager,
  ): TenantScopedRepository<E> {
    return new TenantScopedRepository(manager.getRepository(entity), this.context);
  }
}
