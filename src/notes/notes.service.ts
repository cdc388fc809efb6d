import { Injectable } from '@nestjs/common';
import { FindOptionsWhere, LessThan } from 'typeorm';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { AppError } from '../errors/app-error';
import { DEFAULT_PAGE_SIZE, toPage } from '../http/pagination';
import { TenantScopedRepositoryFactory } from '../tenancy/tenant-scoped.repository';
import { MANAGER_ROLES } from '../users/user-role';
import {
  CreateNoteDto,
  ListNotesQueryDto,
  NotePageDto,
  NoteView,
  UpdateNoteDto,
} from './dto/note.dto';
import { NoteEntity } from './note.entity';

@Injectable()
export class NotesService {
  constructor(private readonly scoped: TenantScopedRepositoryFactory) {}

  private get notes() {
    return this.scoped.for(NoteEntity);
  }

  async create(actor: AuthenticatedUser, dto: CreateNoteDto): Promise<NoteView> {
    const note = await this.notes.insert({
      userId: actor.userId,
      title: dto.title ?? null,
      content: dto.content,
    });
    return NoteView.from(note);
  }

  async list(actor: AuthenticatedUser, query: ListNotesQueryDto): Promise<NotePageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const where: FindOptionsWhere<NoteEntity> = {};
    if (query.cursor) where.id = LessThan(query.cursor);
    if (query.author === 'me') where.userId = actor.userId;
    const rows = await this.notes.find(where, { order: { id: 'DESC' }, take: limit + 1 });
    return toPage(rows, limit, (row) => NoteView.from(row));
  }

  async get(id: string): Promise<NoteView> {
    return NoteView.from(await this.load(id));
  }

  async update(actor: AuthenticatedUser, id: string, dto: UpdateNoteDto): Promise<NoteView> {
    if (dto.title === undefined && dto.content === undefined) {
      throw new AppError('VALIDATION_FAILED', 'Send at least one of title, content', {
        errors: ['Send at least one of title, content'],
      });
    }
    assertMayModify(actor, await this.load(id));
    const patch: Partial<Pick<NoteEntity, 'title' | 'content'>> = {};
    if (dto.title !== undefined) patch.title = dto.title;
    if (dto.content !== undefined) patch.content = dto.content;
    if ((await this.notes.update({ id }, patch)) === 0) throw notFound(id);
    return this.get(id);
  }

  async remove(actor: AuthenticatedUser, id: string): Promise<void> {
    assertMayModify(actor, await this.load(id));
    if ((await this.notes.delete({ id })) === 0) throw notFound(id);
  }

  /** Another tenant's note is indistinguishable from a missing one: both are 404. */
  private async load(id: string): Promise<NoteEntity> {
    const note = await this.notes.findOne({ id });
    if (!note) throw notFound(id);
    return note;
  }
}

function notFound(id: string): AppError {
  return new AppError('NOTE_NOT_FOUND', `Note ${id} not found`);
}

function assertMayModify(actor: AuthenticatedUser, note: NoteEntity): void {
  if (note.userId !== actor.userId && !MANAGER_ROLES.includes(actor.role)) {
    throw new AppError('FORBIDDEN', 'Only the author or a tenant owner/admin may change this note');
  }
}
