import { Injectable } from '@nestjs/common';
import { LessThan } from 'typeorm';
import { AuthenticatedUser } from '../access/principal';
import { AppError } from '../errors/app-error';
import { DEFAULT_PAGE_SIZE, toPage } from '../http/pagination';
import { TenantScopedRepositoryFactory, Where } from '../tenancy/tenant-scoped.repository';
import { isManager } from '../roles/roles';
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
    const where: Where<NoteEntity> = {};
    if (query.author === 'me') where.userId = actor.userId;
    if (query.cursor) where.id = LessThan(query.cursor);
    const rows = await this.notes.find(where, { order: { id: 'DESC' }, limit: limit + 1 });
    return toPage(rows, limit, (row) => NoteView.from(row));
  }

  async get(id: string): Promise<NoteView> {
    const note = await this.notes.findOne({ id });
    if (!note) throw notFound(id);
    return NoteView.from(note);
  }

  /** One statement when allowed: the permission is part of the UPDATE's WHERE. */
  async update(actor: AuthenticatedUser, id: string, dto: UpdateNoteDto): Promise<NoteView> {
    if (dto.title === undefined && dto.content === undefined) {
      throw new AppError('VALIDATION_FAILED', 'Send at least one of title, content', {
        errors: ['Send at least one of title, content'],
      });
    }
    const patch: Partial<Pick<NoteEntity, 'title' | 'content'>> = {};
    if (dto.title !== undefined) patch.title = dto.title;
    if (dto.content !== undefined) patch.content = dto.content;
    const [note] = await this.notes.update(modifiable(actor, id), patch);
    if (!note) throw await this.whyNot(id);
    return NoteView.from(note);
  }

  async remove(actor: AuthenticatedUser, id: string): Promise<void> {
    if ((await this.notes.delete(modifiable(actor, id))) === 0) throw await this.whyNot(id);
  }

  /**
   * After a change matched nothing: a missing note (or another tenant's, which is the same to
   * this tenant) is a 404; someone else's note the actor may not change is a 403.
   */
  private async whyNot(id: string): Promise<AppError> {
    return (await this.notes.findOne({ id }, { select: ['id'] }))
      ? new AppError('FORBIDDEN', 'Only the author or a tenant owner/admin may change this note')
      : notFound(id);
  }
}

/**
 * The note as the actor may change it: any note for managers, otherwise only their own (the
 * rule of mayChangeNote, put in the statement's WHERE so the check and the change are one).
 */
function modifiable(actor: AuthenticatedUser, id: string): Where<NoteEntity> {
  return isManager(actor.role) ? { id } : { id, userId: actor.userId };
}

function notFound(id: string): AppError {
  return new AppError('NOTE_NOT_FOUND', `Note ${id} not found`);
}
