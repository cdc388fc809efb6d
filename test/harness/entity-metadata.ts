import { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { ENTITIES_GLOB } from '../../src/database/data-source-options';

/** Entity metadata exactly as the app builds it, for unit specs; no database connection. */
export async function entityMetadata(entity: EntityTarget<ObjectLiteral>): Promise<EntityMetadata> {
  const dataSource = new DataSource({ type: 'postgres', entities: [ENTITIES_GLOB] });
  // buildMetadatas() is the part of initialize() that runs before connecting.
  await (dataSource as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
  return dataSource.getMetadata(entity);
}
