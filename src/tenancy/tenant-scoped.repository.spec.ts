import { IsNull, LessThan, Like, MoreThan } from 'typeorm';
import { SqlExecutor, Statement } from '../database/sql';
import { ScopedTable } from './scoped-table';
import { entityMetadata } from '../../test/harness/entity-metadata';
import { LoginDirectoryEntry } from '../accounts/login-directory.entity';
import { NoteEntity } from '../notes/note.entity';
import { TenantContext, TenantContextMissingError } from './tenant-context';
import { TenantScopedRepository } from './tenant-scoped.repository';

function recordingExecutor(rows: unknown[] = [], rowCount = rows.length) {
  const calls: Array<{ statement: Statement; params: unknown[] }> = [];
  const executor: SqlExecutor = {
    run: <R>(statement: Statement, params: unknown[]) => {
      calls.push({ statement, params });
      return Promise.resolve({ rows: rows as R[], rowCount });
    },
  };
  return { executor, calls };
}

const COLUMNS =
  '"tenant_id" AS "tenantId", "id" AS "id", "user_id" AS "userId", "title" AS "title", ' +
  '"content" AS "content", "created_at" AS "createdAt", "updated_at" AS "updatedAt"';

describe(TenantScopedRepository.name, () => {
  const context = new TenantContext();
  let notes: ScopedTable;

  beforeAll(async () => {
    notes = new ScopedTable(await entityMetadata(NoteEntity));
  });

  const inTenant = <T>(fn: () => Promise<T>) => context.run({ tenantId: '7' }, fn);

  it('should refuse every operation without a tenant in context, sending nothing', async () => {
    const { executor, calls } = recordingExecutor();
    const scoped = new TenantScopedRepository<NoteEntity>(notes, executor, context);
    await expect(scoped.findOne({ id: '1' })).rejects.toThrow(TenantContextMissingError);
    await expect(scoped.find({})).rejects.toThrow(TenantContextMissingError);
    await expect(scoped.insert({ content: 'x' })).rejects.toThrow(TenantContextMissingError);
    await expect(scoped.update({ id: '1' }, { title: 'x' })).rejects.toThrow(
      TenantContextMissingError,
    );
    await expect(scoped.delete({ id: '1' })).rejects.toThrow(TenantContextMissingError);
    expect(calls).toHaveLength(0);
  });

  it('should lead every WHERE with the context tenant as $1', async () => {
    const { executor, calls } = recordingExecutor();
    const scoped = new TenantScopedRepository<NoteEntity>(notes, executor, context);
    await inTenant(async () => {
      await scoped.find({ userId: '3', id: LessThan('9') }, { order: { id: 'DESC' }, limit: 21 });
      await scoped.findOne({ id: '1' });
      await scoped.delete({ id: '1' });
    });
    expect(calls.map((call) => [call.statement.text, call.params])).toEqual([
      [
        `SELECT ${COLUMNS} FROM "notes" WHERE "tenant_id" = $1 AND "user_id" = $2 AND "id" < $3 ORDER BY "id" DESC LIMIT $4`,
        ['7', '3', '9', 21],
      ],
      [
        `SELECT ${COLUMNS} FROM "notes" WHERE "tenant_id" = $1 AND "id" = $2 LIMIT $3`,
        ['7', '1', 1],
      ],
      ['DELETE FROM "notes" WHERE "tenant_id" = $1 AND "id" = $2', ['7', '1']],
    ]);
  });

  it('should stamp the context tenant on inserts, overriding any smuggled tenantId', async () => {
    const { executor, calls } = recordingExecutor([{ tenantId: '7', id: '1' }]);
    const scoped = new TenantScopedRepository<NoteEntity>(notes, executor, context);
    const smuggled = { content: 'x', userId: '3', tenantId: '999' } as unknown as NoteEntity;
    const row = await inTenant(() => scoped.insert(smuggled));
    expect(row).toEqual({ tenantId: '7', id: '1' });
    expect(calls[0].statement.text).toBe(
      `INSERT INTO "notes" ("tenant_id", "content", "user_id") VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
    );
    expect(calls[0].params).toEqual(['7', 'x', '3']);
  });

  it('should fail closed on undefined or null criteria instead of widening the query', async () => {
    const { executor, calls } = recordingExecutor();
    const scoped = new TenantScopedRepository<NoteEntity>(notes, executor, context);
    await expect(inTenant(() => scoped.findOne({ id: undefined }))).rejects.toThrow(/undefined/);
    await expect(inTenant(() => scoped.delete({ id: undefined }))).rejects.toThrow(/undefined/);
    await expect(inTenant(() => scoped.find({ title: null }))).rejects.toThrow(/IsNull/);
    expect(calls).toHaveLength(0);
  });

  it('should refuse criteria naming another tenant, tenant changes and unknown operators', async () => {
    const { executor, calls } = recordingExecutor();
    const scoped = new TenantScopedRepository<NoteEntity>(notes, executor, context);
    await expect(inTenant(() => scoped.find({ tenantId: '8' }))).rejects.toThrow(/another tenant/);
    await expect(inTenant(() => scoped.update({ id: '1' }, { tenantId: '8' }))).rejects.toThrow(
      /tenantId cannot change/,
    );
    await expect(inTenant(() => scoped.find({ title: Like('%') }))).rejects.toThrow(
      /not supported/,
    );
    await expect(inTenant(() => scoped.find({ nope: '1' } as never))).rejects.toThrow(
      /no column "nope"/,
    );
    expect(calls).toHaveLength(0);
  });

  it('should number SET values before the WHERE, stamp updated_at and allow raw SQL values', async () => {
    const { executor, calls } = recordingExecutor([{ id: '1' }]);
    const scoped = new TenantScopedRepository<NoteEntity>(notes, executor, context);
    const rows = await inTenant(() =>
      scoped.update(
        { id: '1', userId: '3', title: IsNull(), createdAt: MoreThan(new Date(0)) },
        { content: 'new', title: () => "'raw'" },
      ),
    );
    expect(rows).toEqual([{ id: '1' }]);
    expect(calls[0].statement.text).toBe(
      `UPDATE "notes" SET "content" = $2, "title" = 'raw', "updated_at" = now() WHERE "tenant_id" = $1 AND "id" = $3 AND "user_id" = $4 AND "title" IS NULL AND "created_at" > $5 RETURNING ${COLUMNS}`,
    );
    expect(calls[0].params).toEqual(['7', 'new', '1', '3', new Date(0)]);
  });

  it('should build each statement shape once and give it a stable prepared-statement name', async () => {
    const { executor, calls } = recordingExecutor();
    const scoped = new TenantScopedRepository<NoteEntity>(notes, executor, context);
    await inTenant(async () => {
      await scoped.findOne({ id: '1' });
      await scoped.findOne({ id: '2' });
      await scoped.find({ id: LessThan('2') });
    });
    expect(calls[0].statement).toBe(calls[1].statement);
    expect(calls[2].statement).not.toBe(calls[0].statement);
    expect(calls[0].statement.name).toMatch(/^notes_[0-9a-f]{16}$/);
    expect(calls[2].statement.name).not.toBe(calls[0].statement.name);
  });

  it('should leave select:false columns out unless they are asked for', async () => {
    const { executor, calls } = recordingExecutor();
    const directory = new ScopedTable(await entityMetadata(LoginDirectoryEntry));
    const scoped = new TenantScopedRepository<LoginDirectoryEntry>(directory, executor, context);
    await inTenant(async () => {
      await scoped.findOne({ userId: '1' });
      await scoped.findOne({ userId: '1' }, { select: ['userId', 'legacyPasswordHash'] });
    });
    expect(calls[0].statement.text).not.toContain('legacy_password_hash');
    expect(calls[1].statement.text).toMatch(
      /^SELECT "user_id" AS "userId", "legacy_password_hash" AS "legacyPasswordHash" FROM "login_directory" WHERE "tenant_id" = \$1/,
    );
  });
});
