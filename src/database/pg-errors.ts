import { QueryFailedError } from 'typeorm';

const UNIQUE_VIOLATION = '23505';

/**
 * The constraint a unique violation hit, or undefined for any other error. On Citus the worker
 * reports the shard's copy of the constraint (`users_email_key_102008`), so callers match prefixes.
 */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  if (!(error instanceof QueryFailedError)) return undefined;
  const driverError = error.driverError as
    { code?: unknown; constraint?: unknown; message?: unknown } | undefined;
  if (driverError?.code !== UNIQUE_VIOLATION) return undefined;
  if (typeof driverError.constraint === 'string') return driverError.constraint;
  // Citus relays a worker's error without the constraint field; its message still names it.
  const message = typeof driverError.message === 'string' ? driverError.message : '';
  return /unique constraint "([^"]+)"/.exec(message)?.[1] ?? '';
}

export function isConstraint(actual: string, name: string): boolean {
  return actual === name || new RegExp(`^${name}_\\d+$`).test(actual);
}

/** The SQLSTATE of an error the server answered with; undefined for anything else. */
export function sqlState(error: unknown): string | undefined {
  const source = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  if (typeof source !== 'object' || source === null) return undefined;
  const { code, severity } = source as { code?: unknown; severity?: unknown };
  // node-postgres sets `severity` only on the server's ErrorResponse; socket errors carry
  // codes like ECONNREFUSED instead.
  return typeof code === 'string' && typeof severity === 'string' && /^[0-9A-Z]{5}$/.test(code)
    ? code
    : undefined;
}
