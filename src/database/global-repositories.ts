import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';

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

  run<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
