import { Injectable } from '@nestjs/common';
import { EntityManager, LessThan } from 'typeorm';
import { GlobalRepositories } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { DEFAULT_PAGE_SIZE, Page, PageQueryDto, toPage } from '../http/pagination';
import { TenantScopedRepositoryFactory } from '../tenancy/tenant-scoped.repository';
import { UserView } from './dto/user.view';
import { LoginDirectoryEntry } from './login-directory.entity';
import { UserEntity } from './user.entity';
import { UserRole } from '../roles/roles';

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string;
  role: UserRole;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly scoped: TenantScopedRepositoryFactory,
    private readonly global: GlobalRepositories,
  ) {}

  /**
   * Inserts the user into the current tenant and its login directory entry in the caller's
   * transaction. The two rows live on different shards; Citus commits them atomically (2PC).
   */
  async create(user: NewUser, tx: EntityManager): Promise<UserEntity> {
    const users = this.scoped.for(UserEntity, tx);
    let created: UserEntity;
    try {
      created = await users.insert(user);
      await this.global.for(LoginDirectoryEntry, tx).insert({
        email: user.email,
        tenantId: created.tenantId,
        userId: created.id,
      });
    } catch (error) {
      throw mapUserConflict(error) ?? error;
    }
    return created;
  }

  async list(query: PageQueryDto): Promise<Page<UserView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.scoped
      .for(UserEntity)
      .find(query.cursor ? { id: LessThan(query.cursor) } : {}, {
        order: { id: 'DESC' },
        limit: limit + 1,
      });
    return toPage(rows, limit, (row) => UserView.from(row));
  }

  async get(id: string): Promise<UserEntity> {
    const user = await this.scoped.for(UserEntity).findOne({ id });
    if (!user) throw new AppError('USER_NOT_FOUND', `User ${id} not found`);
    return user;
  }

  /** Includes the password hash: only for credential checks, never for responses. */
  findWithPasswordHash(id: string): Promise<UserEntity | null> {
    return this.scoped
      .for(UserEntity)
      .findOne(
        { id },
        { select: ['tenantId', 'id', 'username', 'email', 'role', 'createdAt', 'passwordHash'] },
      );
  }

  /** Single-shard: login_directory is distributed by email. Not tenant-scoped by design. */
  findLogins(email: string): Promise<LoginDirectoryEntry[]> {
    return this.global
      .for(LoginDirectoryEntry)
      .find({ where: { email }, order: { tenantId: 'ASC' } });
  }
}

function mapUserConflict(error: unknown): AppError | undefined {
  const constraint = violatedUniqueConstraint(error);
  if (constraint === undefined) return undefined;
  if (
    isConstraint(constraint, 'users_email_key') ||
    isConstraint(constraint, 'login_directory_pkey')
  ) {
    return new AppError('EMAIL_TAKEN', 'This email is already registered in this tenant');
  }
  if (isConstraint(constraint, 'users_username_key')) {
    return new AppError('USERNAME_TAKEN', 'This username is already taken in this tenant');
  }
  return undefined;
}
