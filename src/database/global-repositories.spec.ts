import { DatabaseError } from 'pg';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { Transactions } from './global-repositories';

function serverError(code: string, message: string): QueryFailedError {
  const driverError = Object.assign(new DatabaseError(message, 0, 'error'), { code });
  return new QueryFailedError('INSERT ...', [], driverError);
}

const BROKEN = serverError('XX000', 'failure on connection marked as essential: 10.0.0.12:5432');

describe(Transactions.name, () => {
  const manager = {} as EntityManager;
  const withOutcomes = (...outcomes: Array<Error | 'ok'>) => {
    const transaction = jest.fn(async (work: (tx: EntityManager) => Promise<unknown>) => {
      const outcome = outcomes.shift();
      if (outcome instanceof Error) throw outcome;
      return work(manager);
    });
    return {
      transactions: new Transactions({ transaction } as unknown as DataSource),
      transaction,
    };
  };

  it('should run the work once in a transaction', async () => {
    const { transactions, transaction } = withOutcomes('ok');
    await expect(transactions.run(() => Promise.resolve(42))).resolves.toBe(42);
    expect(transaction).toHaveBeenCalledTimes(1);
  });

  it('should run it once more when Citus failed it on a broken worker connection', async () => {
    const { transactions, transaction } = withOutcomes(BROKEN, 'ok');
    await expect(transactions.run(() => Promise.resolve('done'))).resolves.toBe('done');
    expect(transaction).toHaveBeenCalledTimes(2);
  });

  it('should give up after the second failure, and not retry anything else', async () => {
    const twice = withOutcomes(BROKEN, BROKEN, 'ok');
    await expect(twice.transactions.run(() => Promise.resolve(1))).rejects.toBe(BROKEN);
    expect(twice.transaction).toHaveBeenCalledTimes(2);

    for (const error of [
      serverError('23505', 'duplicate key value violates unique constraint "tenants_name_key"'),
      serverError('08006', 'connection to the remote node x:1 failed'),
      serverError('XX000', 'cache lookup failed for relation 1234'),
    ]) {
      const once = withOutcomes(error, 'ok');
      await expect(once.transactions.run(() => Promise.resolve(1))).rejects.toBe(error);
      expect(once.transaction).toHaveBeenCalledTimes(1);
    }
  });
});
