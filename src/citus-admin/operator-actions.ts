import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { ClusterSql } from '../database/admin-database';
import { AppError } from '../errors/app-error';

/** 'notesop!' as one bigint: advisory locks share one key space per database. */
const LOCK_KEY = '7957695015192257569';

const LOCK_WAIT_MS = 2_000;
const LOCK_POLL_MS = 100;

/** What Citus says when another operation holds the shards or the rebalancer. */
const CITUS_BUSY = /could not acquire the lock|another rebalance|is already in progress/i;

/**
 * Operator actions that change the cluster's shape (adding, draining and removing nodes,
 * rebalancing, isolating a tenant) start one at a time across every instance: each checks the
 * cluster and starts its work while holding an advisory lock on the coordinator, so two
 * operators (or a double click) cannot both pass the check. The one that finds the lock taken
 * waits up to 2 s for it, then answers 409 OPERATION_RUNNING, naming the action when this
 * instance runs it; Citus'
 * own refusal of a concurrent operation (a background job holding the shards) is answered the
 * same way instead of as a 500.
 */
@Injectable()
export class OperatorActions {
  private running?: string;

  constructor(private readonly sql: ClusterSql) {}

  exclusively<T>(action: string, work: () => Promise<T>): Promise<T> {
    return this.sql.withOwnConnection(async (query) => {
      // A double click's second request waits for the first to start (a moment), then finds
      // its work running; beyond LOCK_WAIT_MS the other action is a long one and it says so.
      let locked = false;
      for (const started = Date.now(); ; await sleep(LOCK_POLL_MS)) {
        [{ locked }] = await query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1::bigint) AS locked',
          [LOCK_KEY],
        );
        if (locked || Date.now() - started >= LOCK_WAIT_MS) break;
      }
      if (!locked) {
        throw new AppError(
          'OPERATION_RUNNING',
          this.running
            ? `Another operator action is starting: ${this.running}; try again when it has started`
            : 'Another operator action is starting on this cluster; try again in a moment',
        );
      }
      this.running = action;
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof AppError) && CITUS_BUSY.test(String(error))) {
          throw new AppError(
            'OPERATION_RUNNING',
            `Citus is busy with another operation on these shards (a rebalance or move); ${action} did not start`,
          );
        }
        throw error;
      } finally {
        this.running = undefined;
        await query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_KEY]);
      }
    });
  }
}
