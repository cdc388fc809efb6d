import { LessThan } from 'typeorm';
import { NoteEntity } from '../src/notes/note.entity';
import { TenantContext } from '../src/tenancy/tenant-context';
import { TenantScopedRepository } from '../src/tenancy/tenant-scoped.repository';
import { SqlExecutor, Statement } from '../src/database/sql';
import { ScopedTable } from '../src/tenancy/scoped-table';
import { entityMetadata } from '../test/harness/entity-metadata';
import { forPgbench, NOTE_SQL } from './statements';

describe('bench statements', () => {
  it("should be exactly the statements the service's scoped layer sends for the same routes", async () => {
    const sent: string[] = [];
    const executor: SqlExecutor = {
      run: <R>(statement: Statement) => {
        sent.push(statement.text);
        return Promise.resolve({ rows: [{}] as R[], rowCount: 1 });
      },
    };
    const context = new TenantContext();
    const scoped = new TenantScopedRepository<NoteEntity>(
      new ScopedTable(await entityMetadata(NoteEntity)),
      executor,
      context,
    );
    await context.run({ tenantId: '1' }, async () => {
      // The calls NotesService makes (list, list with cursor, get, create, update).
      await scoped.find({}, { order: { id: 'DESC' }, limit: 21 });
      await scoped.find({ id: LessThan('9') }, { order: { id: 'DESC' }, limit: 21 });
      await scoped.findOne({ id: '9' });
      await scoped.insert({ userId: '2', title: null, content: 'x' });
      await scoped.update({ id: '9' }, { content: 'y' });
      await scoped.update({ id: '9', userId: '2' }, { content: 'y' });
    });
    expect(sent).toEqual([
      NOTE_SQL.firstPage,
      NOTE_SQL.nextPage,
      NOTE_SQL.byId,
      NOTE_SQL.insert,
      NOTE_SQL.updateContent,
      NOTE_SQL.updateOwnContent,
    ]);
  });

  it('should turn $n placeholders into pgbench variables in order', () => {
    expect(
      forPgbench('SELECT $1, $2, $10', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']),
    ).toBe('SELECT :a, :b, :j;');
  });
});
