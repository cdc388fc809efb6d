import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';

/**
 * Entities are found by file name (`*.entity.ts` / `.js`), so this layer names no feature module
 * and the app and the migration CLI load the same set.
 */
export const ENTITIES_GLOB = join(__dirname, '..', '**', '*.entity.{ts,js}');

// Migrations live at the repository root, next to src/, both as .ts (ts-node) and compiled .js.
const MIGRATIONS_GLOB = join(__dirname, '..', '..', 'migrations', '[0-9]*-*.{ts,js}');

export interface DatabaseSettings {
  url: string;
  poolSize?: number;
  /** Per statement, in ms (0: none). Set on each connection at startup. */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** The single description of how this service talks to its database: the app and the CLI use it. */
export function buildDataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: [ENTITIES_GLOB],
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    migrationsRun: false,
    // Failed queries surface through the exception filter (unexpected ones are logged there);
    // logging them here too would print every expected unique-violation conflict.
    logging: ['warn', 'migration'],
    extra: {
      max: settings.poolSize ?? 10,
      connectionTimeoutMillis: settings.connectTimeoutMs ?? 10_000,
      ...(settings.statementTimeoutMs ? { statement_timeout: settings.statementTimeoutMs } : {}),
    },
  };
}
