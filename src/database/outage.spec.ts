import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { brokenNodeConnection, databaseOutage } from './outage';
import { sqlState } from './pg-errors';

/** What node-postgres raises for a server ErrorResponse. */
function pgError(code: string, message = 'server says'): DatabaseError {
  return Object.assign(new DatabaseError(message, 0, 'error'), { code, severity: 'ERROR' });
}

/** The same, wrapped by TypeORM. */
function serverError(code: string, message = 'server says'): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], pgError(code, message));
}

describe(databaseOutage.name, () => {
  it('should read a worker the coordinator cannot reach (SQLSTATE class 08) as a node outage', () => {
    const citus = serverError(
      '08006',
      'connection to the remote node postgres@10.0.0.12:5432 failed with the following error: Connection refused',
    );
    expect(databaseOutage(citus)).toMatchObject({ code: 'NODE_UNAVAILABLE' });
    expect(databaseOutage(serverError('08001'))).toMatchObject({ code: 'NODE_UNAVAILABLE' });
  });

  it("should read Citus' failure of a broken worker connection as a node outage, and only that XX000", () => {
    const broken = serverError(
      'XX000',
      'failure on connection marked as essential: 10.0.0.12:5432',
    );
    expect(brokenNodeConnection(broken)).toBe(true);
    expect(databaseOutage(broken)).toMatchObject({ code: 'NODE_UNAVAILABLE' });
    const bug = serverError('XX000', 'cache lookup failed for relation 1234');
    expect(brokenNodeConnection(bug)).toBe(false);
    expect(databaseOutage(bug)).toBeUndefined();
    // The wording with another SQLSTATE is not Citus' error.
    expect(
      brokenNodeConnection(serverError('22000', 'failure on connection marked as essential: x:1')),
    ).toBe(false);
  });

  it.each(['57P01', '57P02', '57P03'])(
    'should read %s (a restart) as the database being down',
    (code) => {
      expect(databaseOutage(serverError(code))).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    },
  );

  it('should read socket errors and dropped connections as the database being down', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(databaseOutage(refused)).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    // As another realm's Error looks from here: a plain object with the same fields.
    expect(databaseOutage({ code: 'ECONNRESET', message: 'read ECONNRESET' })).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
    });
    const dropped = new QueryFailedError(
      'INSERT ...',
      [],
      new Error('Connection terminated unexpectedly'),
    );
    expect(databaseOutage(dropped)).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    expect(databaseOutage(new Error('timeout exceeded when trying to connect'))).toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
    });
  });

  it('should leave every other error alone, whatever its message says', () => {
    expect(databaseOutage(serverError('23505', 'duplicate key'))).toBeUndefined();
    expect(
      databaseOutage(serverError('XX000', 'Connection terminated unexpectedly')),
    ).toBeUndefined();
    expect(databaseOutage(new Error('boom'))).toBeUndefined();
    expect(
      databaseOutage(new Error('connect ECONNREFUSED, says the message only')),
    ).toBeUndefined();
    // A SQLSTATE-looking code without the server's severity is not the server's answer.
    expect(databaseOutage(Object.assign(new Error('x'), { code: '08006' }))).toBeUndefined();
    expect(databaseOutage(undefined)).toBeUndefined();
    expect(databaseOutage('Connection terminated')).toBeUndefined();
  });
});

describe(sqlState.name, () => {
  it("should give the server's SQLSTATE, wrapped or not, and nothing for other errors", () => {
    expect(sqlState(serverError('22021'))).toBe('22021');
    expect(sqlState(pgError('42P01'))).toBe('42P01');
    expect(sqlState(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(sqlState(null)).toBeUndefined();
  });
});
