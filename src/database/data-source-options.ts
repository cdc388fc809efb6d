import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';

/**
 * Entities are found by file name (`*.entity.ts` / `.js`), so this layer names no feature module
 * and the app and the migration CLI load the same set.
 */
export const ENTITIES_GLOB = join(__dirname, '..', '**', '*.entity.{ts,js}');

// Migrations live at the repository root, next to src/, both as .ts (ts-node) and compiled .js.
const MIGRATIONS_GLOB = join(__dirname, '..', '..', 'migrations', '[0-9]*-*.{ts,js}');

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface DatabaseSettings {
  url: string;
  poolSize?: number;
  /** Per statement, in ms (0: none). Set on each connection at startup. */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * The URL with server settings added to its startup `options` (kept alongside any already
 * there). Names with a dot are accepted as placeholders where the extension is not loaded.
 */
export function withSessionSettings(url: string, settings: Record<string, string>): string {
  const parsed = new URL(url);
  const added = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`);
  const options = [parsed.searchParams.get('options'), ...added].filter(Boolean).join(' ');
  parsed.searchParams.set('options', options);
  return parsed.toString();
}

/**
 * How long the coordinator may try to reach a worker before the statement fails (and the
 * request answers 503 NODE_UNAVAILABLE): the same budget as connecting to the coordinator.
 */
export function nodeConnectionSettings(connectTimeoutMs: number): Record<string, string> {
  return { 'citus.node_connection_timeout': String(connectTimeoutMs) };
}

/** The single description of how this service talks to its database: the app and the CLI use it. */
export function buildDataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: withSessionSettings(
      settings.url,
      nodeConnectionSettings(settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    ),
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
      connectionTimeoutMillis: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ...(settings.statementTimeoutMs ? { statement_timeout: settings.statementTimeoutMs } : {}),
    },
  };
}
