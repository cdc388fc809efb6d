import { Injectable } from '@nestjs/common';
import { EntityManager, IsNull, LessThan, MoreThan } from 'typeorm';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { AppError } from '../errors/app-error';
import { DEFAULT_PAGE_SIZE, Page, PageQueryDto, toPage } from '../http/pagination';
import { nameKey } from '../names/names';
import { UserRole } from '../roles/roles';
import { TenantScopedRepositoryFactory } from '../tenancy/tenant-scoped.repository';
import { UserView } from './dto/user.view';
import { UserEntity } from './user.entity';

export interface NewUser {
  username: string;
  email: string;
  role: UserRole;
  /** Made inactive: a claimed registration opens it once the mailbox confirms. */
  pending?: boolean;
}

/** The members of the current tenant (the login side of a person is their account). */
@Injectable()
export class UsersService {
  constructor(private readonly scoped: TenantScopedRepositoryFactory) {}

  private users(tx?: EntityManager) {
    return this.scoped.for(UserEntity, tx);
  }

  /**
   * Adds a member to the current tenant in the caller's transaction. Someone who was removed
   * from this tenant before comes back as the same member (their old notes are theirs again).
   */
  async create(user: NewUser, tx: EntityManager): Promise<UserEntity> {
    const { pending = false, ...fields } = user;
    const member = { ...fields, usernameKey: nameKey(fields.username) };
    try {
      const [returning] = await this.users(tx).update(
        { email: member.email, removedAt: MoreThan(new Date(0)) },
        { ...member, removedAt: pending ? () => 'now()' : null },
      );
      return (
        returning ??
        (await this.users(tx).insert({ ...member, removedAt: pending ? new Date() : null }))
      );
    } catch (error) {
      throw mapUserConflict(error) ?? error;
    }
  }

  async list(query: PageQueryDto): Promise<Page<UserView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.users().find(
      query.cursor ? { id: LessThan(query.cursor), removedAt: IsNull() } : { removedAt: IsNull() },
      { order: { id: 'DESC' }, limit: limit + 1 },
    );
    return toPage(rows, limit, (row) => UserView.from(row));
  }

  /** A current member of this tenant (removed members are not found). */
  async get(id: string, tx?: EntityManager): Promise<UserEntity> {
    const user = await this.users(tx).findOne({ id, removedAt: IsNull() });
    if (!user) throw new AppError('USER_NOT_FOUND', `User ${id} not found`);
    return user;
  }

  /**
   * The member a token was issued to, while they are one. A token that outlived its membership
   * is what is wrong, not the URL: 401, not 404.
   */
  member(id: string, tx?: EntityManager): Promise<UserEntity> {
    return this.get(id, tx).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'USER_NOT_FOUND') {
        throw new AppError('UNAUTHENTICATED', 'You are no longer a member of this tenant');
      }
      throw error;
    });
  }
}

function mapUserConflict(error: unknown): AppError | undefined {
  const constraint = violatedUniqueConstraint(error);
  if (constraint === undefined) return undefined;
  if (isConstraint(constraint, 'users_email_key')) {
    return new AppError('EMAIL_TAKEN', 'This email is already registered in this tenant');
  }
  if (isConstraint(constraint, 'users_username_key_key')) {
    return new AppError(
      'USERNAME_TAKEN',
      'This username is already taken in this tenant, or looks the same as one that is',
    );
  }
  return undefined;
}
