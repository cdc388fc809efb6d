import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { clientDataError } from './pg-errors';

function pgError(code: string, fields: Partial<DatabaseError> = {}): DatabaseError {
  return Object.assign(new DatabaseError('server text that quotes the row', 0, 'error'), {
    code,
    ...fields,
  });
}

describe(clientDataError.name, () => {
  it.each([
    ['22001', 'A value is too long'],
    ['22003', 'A number is out of range'],
    ['22021', 'A text value contains a character that cannot be stored'],
    ['22P02', 'A value does not have the expected format'],
    ['22P05', 'A text value contains a character that cannot be stored'],
    ['23502', 'A required value is missing'],
    ['54000', 'The request exceeds a database limit'],
    ['54001', 'The request is too complex'],
  ])('should map SQLSTATE %s to a message that does not repeat the server', (code, message) => {
    expect(clientDataError(pgError(code))).toEqual({ sqlState: code, message });
  });

  it('should read the SQLSTATE through TypeORM as well as straight from node-postgres', () => {
    const wrapped = new QueryFailedError('INSERT', [], pgError('22021'));
    expect(clientDataError(wrapped)?.sqlState).toBe('22021');
  });

  it('should name the column of a NOT NULL violation in the API spelling', () => {
    expect(clientDataError(pgError('23502', { column: 'content' }))?.message).toBe(
      'content must not be null',
    );
    expect(clientDataError(pgError('23502', { column: 'user_id' }))?.message).toBe(
      'userId must not be null',
    );
    expect(clientDataError(pgError('23502', { column: 'Odd "name"' }))?.message).toBe(
      'A required value is missing',
    );
  });

  it('should decide by SQLSTATE alone, never by the message text', () => {
    const looksLikeIt = pgError('XX000', {
      message: 'invalid byte sequence for encoding "UTF8": 0x00',
    });
    expect(clientDataError(looksLikeIt)).toBeUndefined();
    expect(clientDataError(new Error('invalid byte sequence for encoding "UTF8": 0x00'))).toBe(
      undefined,
    );
  });

  it('should leave every other error alone, database or not', () => {
    expect(clientDataError(pgError('23505'))).toBeUndefined(); // services own unique violations
    expect(clientDataError(pgError('40001'))).toBeUndefined();
    expect(clientDataError(pgError('57014'))).toBeUndefined(); // statement timeout: a 500
    expect(clientDataError(Object.assign(new Error('x'), { code: '22021' }))).toBeUndefined();
    expect(
      clientDataError(
        new QueryFailedError('SELECT', [], Object.assign(new Error('x'), { code: 'ECONNRESET' })),
      ),
    ).toBeUndefined();
    expect(clientDataError('22021')).toBeUndefined();
  });
});
