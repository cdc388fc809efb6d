import { AsyncLocalStorage } from 'node:async_hooks';
import { Pool, PoolClient } from 'pg';

/**
 * Every statement a request sends carries its request id where operators look for running work:
 * `application_name`, which pg_stat_activity and citus_stat_activity show (and Citus' connections
 * to the workers report the coordinator's global pid, which leads back to it). A connection is
 * labelled again only when it serves a different request than its last statement did: one `SET`
 * before the request's first statement on that connection; the statements themselves stay named
 * prepared statements.
 */
const requests = new AsyncLocalStorage<string>();

/** What application_name says for a request's statements (the server keeps 63 bytes). */
export const APPLICATION_NAME_PREFIX = 'notes req ';

/** Runs `fn`, and everything it starts, as request `id`. */
export function runAsRequest<T>(id: string, fn: () => T): T {
  return requests.run(id, fn);
}

/** The request the current code runs for, if any. */
export function currentRequest(): string | undefined {
  return requests.getStore();
}

/** The request id in an application_name the service set, or undefined. */
export function requestOf(applicationName: string | null | undefined): string | undefined {
  return applicationName?.startsWith(APPLICATION_NAME_PREFIX)
    ? applicationName.slice(APPLICATION_NAME_PREFIX.length)
    : undefined;
}

/** A statement config may name its request (`request`), for callers whose context pg loses. */
export interface TaggedQuery {
  request?: string;
}

const LABELLED = Symbol('notes.labelled');
type QueryFn = (...args: unknown[]) => unknown;
type Labelled = PoolClient & { [LABELLED]?: { request?: string } };

/**
 * Labels the statements of `pool`'s connections. Request ids are checked where they enter
 * (`[A-Za-z0-9._-]{1,64}` or a UUID, see http-adapter.ts), so they are safe in a literal.
 */
export function labelStatements(pool: Pool): void {
  pool.on('acquire', (client: Labelled) => {
    if (client[LABELLED]) return;
    const state: { request?: string } = {};
    client[LABELLED] = state;
    const query = client.query.bind(client) as QueryFn;
    (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
      const first = args[0] as TaggedQuery | string | undefined;
      const request =
        (typeof first === 'object' && first !== null ? first.request : undefined) ??
        requests.getStore();
      if (request === undefined || request === state.request || !/^[\w.-]{1,64}$/.test(request)) {
        return query(...args);
      }
      state.request = request;
      // The statement follows its label: once the SET is answered (or failed: then the
      // statement meets the same broken connection and reports it), on the same connection.
      const label = query(
        `SET application_name = '${APPLICATION_NAME_PREFIX}${request}'`,
      ) as Promise<unknown>;
      const run = () => query(...args);
      if (typeof args[args.length - 1] === 'function') {
        // Callback style (pg-pool's pool.query): the caller reads no return value.
        void label.then(run, run);
        return undefined;
      }
      return label.then(run, run);
    };
  });
}
