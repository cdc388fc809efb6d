import { LessThan } from 'typeorm';
import { AuthenticatedUser } from '../access/principal';
import { AppError } from '../errors/app-error';
import { UserRole } from '../roles/roles';
import {
  FindOptions,
  Patch,
  TenantScopedRepositoryFactory,
  Where,
} from '../tenancy/tenant-scoped.repository';
import { NoteEntity } from './note.entity';
import { NotesService } from './notes.service';

function note(id: string, userId = '10'): NoteEntity {
  return {
    tenantId: '7',
    id,
    userId,
    title: `title ${id}`,
    content: `content ${id}`,
    createdAt: new Date(Number(id) * 1000),
    updatedAt: new Date(Number(id) * 2000),
  };
}

function fakeNotes() {
  return {
    find: jest.fn<Promise<NoteEntity[]>, [Where<NoteEntity>, FindOptions<NoteEntity>?]>(() =>
      Promise.resolve([]),
    ),
    findOne: jest.fn<
      Promise<NoteEntity | null>,
      [Where<NoteEntity>, Pick<FindOptions<NoteEntity>, 'select'>?]
    >(() => Promise.resolve(null)),
    insert: jest.fn<Promise<NoteEntity>, [Partial<NoteEntity>]>((values) =>
      Promise.resolve({ ...note('100'), ...values }),
    ),
    update: jest.fn<Promise<NoteEntity[]>, [Where<NoteEntity>, Patch<NoteEntity>]>(() =>
      Promise.resolve([]),
    ),
    delete: jest.fn<Promise<number>, [Where<NoteEntity>]>(() => Promise.resolve(0)),
  };
}

const actor = (role: UserRole, userId = '10'): AuthenticatedUser => ({
  kind: 'user',
  userId,
  tenantId: '7',
  sessionId: 's'.repeat(22),
  role,
});

describe(NotesService.name, () => {
  let notes: ReturnType<typeof fakeNotes>;
  let factory: { for: jest.Mock };
  let service: NotesService;

  beforeEach(() => {
    notes = fakeNotes();
    factory = { for: jest.fn(() => notes) };
    service = new NotesService(factory as unknown as TenantScopedRepositoryFactory);
  });

  describe('create', () => {
    it("should write the note as the actor's own and answer it with authorId", async () => {
      const view = await service.create(actor('member', '42'), { content: 'hello' });
      expect(factory.for).toHaveBeenCalledWith(NoteEntity);
      expect(notes.insert).toHaveBeenCalledWith({ userId: '42', title: null, content: 'hello' });
      expect(view).toMatchObject({ id: '100', authorId: '42', title: null, content: 'hello' });
      expect(view).not.toHaveProperty('tenantId');
    });
  });

  describe('list', () => {
    it('should filter on id < cursor and on the author when author=me', async () => {
      await service.list(actor('member', '42'), { author: 'me', cursor: '500', limit: 5 });
      expect(notes.find).toHaveBeenCalledTimes(1);
      const [where, options] = notes.find.mock.calls[0];
      expect(where).toEqual({ userId: '42', id: LessThan('500') });
      expect(options).toEqual({ order: { id: 'DESC' }, limit: 6 });
    });

    it("should list every author's notes without author=me, from the top without a cursor", async () => {
      await service.list(actor('member', '42'), {});
      const [where, options] = notes.find.mock.calls[0];
      expect(where).toEqual({});
      expect(options).toEqual({ order: { id: 'DESC' }, limit: 21 });
    });

    it('should answer limit rows and the last shown id as nextCursor when one more row exists', async () => {
      notes.find.mockResolvedValue([note('9'), note('8'), note('7')]);
      const page = await service.list(actor('member'), { limit: 2 });
      expect(page.items.map((item) => item.id)).toEqual(['9', '8']);
      expect(page.nextCursor).toBe('8');
    });

    it('should answer a null nextCursor on the last page', async () => {
      notes.find.mockResolvedValue([note('9'), note('8')]);
      const page = await service.list(actor('member'), { limit: 2 });
      expect(page.items.map((item) => item.id)).toEqual(['9', '8']);
      expect(page.nextCursor).toBeNull();
    });
  });

  describe('get', () => {
    it('should answer NOTE_NOT_FOUND for a note the tenant does not have', async () => {
      await expect(service.get('5')).rejects.toMatchObject({ code: 'NOTE_NOT_FOUND' });
      expect(notes.findOne).toHaveBeenCalledWith({ id: '5' });
    });

    it('should answer the note with its author', async () => {
      notes.findOne.mockResolvedValue(note('5', '33'));
      await expect(service.get('5')).resolves.toMatchObject({ id: '5', authorId: '33' });
    });
  });

  describe('update', () => {
    it('should scope a member to their own notes in the WHERE of the update', async () => {
      notes.update.mockResolvedValue([note('5', '42')]);
      await service.update(actor('member', '42'), '5', { content: 'new' });
      expect(notes.update).toHaveBeenCalledWith({ id: '5', userId: '42' }, { content: 'new' });
    });

    it.each<UserRole>(['owner', 'admin'])(
      "should let an %s change anyone's note: the WHERE is the id alone",
      async (role) => {
        notes.update.mockResolvedValue([note('5', '99')]);
        const view = await service.update(actor(role, '42'), '5', { title: 'new' });
        expect(notes.update).toHaveBeenCalledWith({ id: '5' }, { title: 'new' });
        expect(view).toMatchObject({ id: '5', authorId: '99' });
      },
    );

    it('should send only the fields given, and a null title to clear it', async () => {
      notes.update.mockResolvedValue([note('5', '42')]);
      await service.update(actor('member', '42'), '5', { title: null });
      expect(notes.update.mock.calls[0][1]).toEqual({ title: null });
    });

    it('should answer VALIDATION_FAILED for neither title nor content, before any query', async () => {
      await expect(service.update(actor('owner'), '5', {})).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { errors: ['Send at least one of title, content'] },
      });
      expect(factory.for).not.toHaveBeenCalled();
      expect(notes.update).not.toHaveBeenCalled();
      expect(notes.findOne).not.toHaveBeenCalled();
    });

    it("should answer FORBIDDEN when nothing matched but the note exists (someone else's)", async () => {
      notes.findOne.mockResolvedValue(note('5', '99'));
      const error = await service
        .update(actor('member', '42'), '5', { content: 'x' })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'FORBIDDEN' });
      expect(notes.findOne).toHaveBeenCalledWith({ id: '5' }, { select: ['id'] });
    });

    it('should answer NOTE_NOT_FOUND when nothing matched and the note does not exist', async () => {
      await expect(
        service.update(actor('member', '42'), '5', { content: 'x' }),
      ).rejects.toMatchObject({ code: 'NOTE_NOT_FOUND' });
      expect(notes.findOne).toHaveBeenCalledWith({ id: '5' }, { select: ['id'] });
    });

    it('should not look the note up again when the update matched', async () => {
      notes.update.mockResolvedValue([note('5', '42')]);
      await service.update(actor('member', '42'), '5', { content: 'x' });
      expect(notes.findOne).not.toHaveBeenCalled();
    });
  });

  describe('remove', () => {
    it('should scope a member to their own notes in the WHERE of the delete', async () => {
      notes.delete.mockResolvedValue(1);
      await expect(service.remove(actor('member', '42'), '5')).resolves.toBeUndefined();
      expect(notes.delete).toHaveBeenCalledWith({ id: '5', userId: '42' });
      expect(notes.findOne).not.toHaveBeenCalled();
    });

    it.each<UserRole>(['owner', 'admin'])(
      "should let an %s delete anyone's note: the WHERE is the id alone",
      async (role) => {
        notes.delete.mockResolvedValue(1);
        await service.remove(actor(role, '42'), '5');
        expect(notes.delete).toHaveBeenCalledWith({ id: '5' });
      },
    );

    it("should answer FORBIDDEN when nothing was deleted but the note exists (someone else's)", async () => {
      notes.findOne.mockResolvedValue(note('5', '99'));
      await expect(service.remove(actor('member', '42'), '5')).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    });

    it('should answer NOTE_NOT_FOUND when nothing was deleted and the note does not exist', async () => {
      await expect(service.remove(actor('admin', '42'), '5')).rejects.toMatchObject({
        code: 'NOTE_NOT_FOUND',
      });
    });
  });
});
