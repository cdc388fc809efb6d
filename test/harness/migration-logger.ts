import { Logger } from 'typeorm';

/** A TypeORM logger that keeps what migrations log in `logs` and prints nothing. */
export function migrationLogs(logs: string[]): Logger {
  return {
    logQuery: () => undefined,
    logQueryError: () => undefined,
    logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined,
    log: () => undefined,
    logMigration: (message) => logs.push(message),
  };
}
