import { ClusterSql } from '../database/admin-database';
import { OperatorActions } from './operator-actions';

/** A ClusterSql whose advisory lock is taken or free, recording the statements. */
function clusterSql(lockFree: () => boolean) {
  const statements: string[] = [];
  const sql = {
    withOwnConnection: <T>(
      work: (query: (text: string) => Promise<Array<{ locked: boolean }>>) => Promise<T>,
    ) =>
      work((text) => {
        statements.push(text.split('(')[0]);
        return Promise.resolve([{ locked: lockFree() }]);
      }),
  };
  return { sql: sql as unknown as ClusterSql, statements };
}

describe('OperatorActions', () => {
  it('should run the action under the lock and let it go afterwards, failed or not', async () => {
    const { sql, statements } = clusterSql(() => true);
    const actions = new OperatorActions(sql);
    await expect(
      actions.exclusively('starting a rebalance', () => Promise.resolve(7)),
    ).resolves.toBe(7);
    await expect(
      actions.exclusively('starting a rebalance', () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(statements).toEqual([
      'SELECT pg_try_advisory_lock',
      'SELECT pg_advisory_unlock',
      'SELECT pg_try_advisory_lock',
      'SELECT pg_advisory_unlock',
    ]);
  });

  it('should refuse with OPERATION_RUNNING, naming the action, while this instance runs one', async () => {
    let free = true;
    const { sql } = clusterSql(() => {
      const answer = free;
      free = false;
      return answer;
    });
    const actions = new OperatorActions(sql);
    let finish: () => void = () => undefined;
    const first = actions.exclusively(
      'isolating tenant 5',
      () => new Promise<void>((resolve) => (finish = resolve)),
    );
    await new Promise((resolve) => setImmediate(resolve));
    await expect(
      actions.exclusively('isolating tenant 5', () => Promise.resolve()),
    ).rejects.toMatchObject({
      code: 'OPERATION_RUNNING',
      message: expect.stringContaining('isolating tenant 5') as unknown,
    });
    finish();
    await first;
  });

  it('should answer Citus refusing a concurrent operation as OPERATION_RUNNING, not a 500', async () => {
    const { sql } = clusterSql(() => true);
    const actions = new OperatorActions(sql);
    await expect(
      actions.exclusively('starting a rebalance', () =>
        Promise.reject(new Error('could not acquire the lock required to rebalance public.users')),
      ),
    ).rejects.toMatchObject({ code: 'OPERATION_RUNNING' });
  });
});
