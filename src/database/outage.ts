import { QueryFailedError } from 'typeorm';
import { sqlState } from './pg-errors';

export interface Outage {
  code: 'NODE_UNAVAILABLE' | 'DATABASE_UNAVAILABLE';
  message: string;
}

/** Socket errors of the connection to the coordinator (Node's codes). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * node-postgres raises these without any code when the connection drops or cannot be made in
 * time; they are the driver's fixed wording, not a server message.
 */
const DRIVER_CONNECTION_ERRORS = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);

const NODE_DOWN: Outage = {
  code: 'NODE_UNAVAILABLE',
  message: 'A database node that holds this data cannot be reached; try again shortly',
};
const DATABASE_DOWN: Outage = {
  code: 'DATABASE_UNAVAILABLE',
  message: 'The database cannot be reached; try again shortly',
};

/**
 * Citus' error when a connection to a worker that it had kept open for this session broke
 * (the worker restarted or went away since) while a transaction needed it: no SQLSTATE of its
 * own (XX000), only this wording (remote_transaction.c). Nothing of the transaction committed.
 */
const BROKEN_NODE_CONNECTION = /^failure on connection marked as essential: /;

/** The driver's error under TypeORM's wrapper, or the error itself. */
const driverError = (error: unknown): unknown =>
  error instanceof QueryFailedError ? (error.driverError as unknown) : error;

export function brokenNodeConnection(error: unknown): boolean {
  if (sqlState(error) !== 'XX000') return false;
  const message = (driverError(error) as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && BROKEN_NODE_CONNECTION.test(message);
}

/**
 * Whether an error means part of the database is down rather than a bug or a bad request:
 * - SQLSTATE class 08 from the coordinator: it could not reach a worker (Citus reports 08006),
 *   and Citus' XX000 for a broken connection to a worker (`brokenNodeConnection`);
 * - 57P01-57P03: the server is shutting down, crashed or is starting up (a restart);
 * - no answer from the server at all: a socket error or a dropped / timed-out connection.
 */
export function databaseOutage(error: unknown): Outage | undefined {
  const state = sqlState(error);
  if (state !== undefined) {
    if (state.startsWith('08') || brokenNodeConnection(error)) return NODE_DOWN;
    if (state === '57P01' || state === '57P02' || state === '57P03') return DATABASE_DOWN;
    return undefined;
  }
  const source = driverError(error);
  // Not `instanceof Error`: socket errors may come from another realm (a test VM, say).
  if (typeof source !== 'object' || source === null) return undefined;
  const { code, message } = source as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return DATABASE_DOWN;
  return typeof message === 'string' && DRIVER_CONNECTION_ERRORS.has(message)
    ? DATABASE_DOWN
    : undefined;
}
