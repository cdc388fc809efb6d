import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { brokenNodeConnection } from './outage';

/**
 * Repositories for the tables that belong to no single tenant (tenants, the login directory,
 * operators). A tenant-owned table (primary key leading with tenant_id) is refused: those are
 * reached only through the scoped layer in tenancy/.
 */
@Injectable()
export class GlobalRepositories {
  constructor(private readonly dataSource: DataSource) {}

  for<E extends ObjectLiteral>(entity: EntityTarget<E>, tx?: EntityManager): Repository<E> {
    const metadata = this.dataSource.getMetadata(entity);
    if (metadata.primaryColumns[0]?.databaseName === 'tenant_id') {
      throw new Error(`${metadata.tableName} is tenant-owned: use the scoped layer (tenancy/)`);
    }
    return (tx ?? this.dataSource.manager).getRepository(entity);
  }
}

/** Work that must commit or fail as one (rows on several shards commit with Citus' 2PC). */
@Injectable()
export class Transactions {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in a transaction, and once more when Citus failed it on a broken connection to
   * a worker (`brokenNodeConnection`): each pooled session keeps a connection to every worker,
   * and after a worker restarts each of them fails once on first use, though the worker is back.
   * Nothing committed, and `work` has no effect outside the database (mails go after the
   * commit), so the second attempt, on a fresh connection, is safe. A worker still down fails
   * it again, quickly, and the caller answers 503.
   */
  async run<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      if (!brokenNodeConnection(error)) throw error;
      return this.dataSource.transaction(work);
    }
  }
}
