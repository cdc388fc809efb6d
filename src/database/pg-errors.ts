import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';

const UNIQUE_VIOLATION = '23505';
const NOT_NULL_VIOLATION = '23502';

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

/** A PostgreSQL error's fields, from node-postgres directly or wrapped by TypeORM. */
interface PgErrorFields {
  code: string;
  column?: unknown;
}

function pgErrorFields(error: unknown): PgErrorFields | undefined {
  const source: unknown =
    error instanceof QueryFailedError
      ? error.driverError
      : error instanceof DatabaseError
        ? error
        : undefined;
  const code = (source as { code?: unknown } | undefined)?.code;
  // SQLSTATEs are five characters of 0-9A-Z; a driver's own errors carry other codes (ECONNRESET).
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  return { code, column: (source as { column?: unknown }).column };
}

/**
 * SQLSTATEs a client's data can cause when validation missed it. The messages say what was wrong
 * with the input and never repeat the server's text (which can quote the row).
 */
const CLIENT_DATA_ERRORS: Readonly<Record<string, string>> = {
  '22001': 'A value is too long',
  '22003': 'A number is out of range',
  '22021': 'A text value contains a character that cannot be stored',
  '22P02': 'A value does not have the expected format',
  '22P05': 'A text value contains a character that cannot be stored',
  '23502': 'A required value is missing',
  '54000': 'The request exceeds a database limit',
  '54001': 'The request is too complex',
};

export interface ClientDataError {
  sqlState: string;
  message: string;
}

/**
 * A database error that the request's data caused, decided by SQLSTATE alone (messages change
 * with the server's language and version); undefined for every other error.
 */
export function clientDataError(error: unknown): ClientDataError | undefined {
  const fields = pgErrorFields(error);
  const message = fields && CLIENT_DATA_ERRORS[fields.code];
  if (!fields || !message) return undefined;
  // A NOT NULL violation names its column (plain PostgreSQL does; Citus may not relay it).
  if (fields.code === NOT_NULL_VIOLATION && typeof fields.column === 'string') {
    const column = /^[a-z][a-z0-9_]*$/.test(fields.column) ? camelCase(fields.column) : undefined;
    if (column) return { sqlState: fields.code, message: `${column} must not be null` };
  }
  return { sqlState: fields.code, message };
}

/** Columns are snake_case, API fields camelCase: `user_id` -> `userId`. */
function camelCase(column: string): string {
  return column.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** The SQLSTATE of an error the server answered with; undefined for anything else. */
export function sqlState(error: unknown): string | undefined {
  return pgErrorFields(error)?.code;
}
