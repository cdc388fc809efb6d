import { EntityManager, LessThan, QueryFailedError } from 'typeorm';
import { GlobalRepositories } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import {
  FindOptions,
  TenantScopedRepositoryFactory,
  Where,
} from '../tenancy/tenant-scoped.repository';
import { LoginDirectoryEntry } from './login-directory.entity';
import { UserEntity } from './user.entity';
import { NewUser, UsersService } from './users.service';

function uniqueViolation(driverError: { constraint?: string; message?: string }) {
  return new QueryFailedError(
    'INSERT',
    [],
    Object.assign(new Error(driverError.message ?? 'duplicate key'), {
      code: '23505',
      ...driverError,
    }),
  );
}

function user(id: string): UserEntity {
  return {
    tenantId: '7',
    id,
    username: `u${id}`,
    email: `u${id}@example.com`,
    passwordHash: 'hash',
    role: 'member',
    createdAt: new Date(Number(id) * 1000),
  };
}

const newUser: NewUser = {
  username: 'alice',
  email: 'alice@example.com',
  passwordHash: '$2b$04$hash',
  role: 'admin',
};

describe(UsersService.name, () => {
  const tx = { queryRunner: {} } as unknown as EntityManager;
  let users: {
    find: jest.Mock<Promise<UserEntity[]>, [Where<UserEntity>, FindOptions<UserEntity>?]>;
    findOne: jest.Mock<
      Promise<UserEntity | null>,
      [Where<UserEntity>, Pick<FindOptions<UserEntity>, 'select'>?]
    >;
    insert: jest.Mock<Promise<UserEntity>, [Partial<UserEntity>]>;
  };
  let directory: { insert: jest.Mock; find: jest.Mock };
  let scoped: { for: jest.Mock };
  let global: { for: jest.Mock };
  let service: UsersService;

  beforeEach(() => {
    users = {
      find: jest.fn<Promise<UserEntity[]>, [Where<UserEntity>, FindOptions<UserEntity>?]>(() =>
        Promise.resolve([]),
      ),
      findOne: jest.fn<
        Promise<UserEntity | null>,
        [Where<UserEntity>, Pick<FindOptions<UserEntity>, 'select'>?]
      >(() => Promise.resolve(null)),
      insert: jest.fn((values: Partial<UserEntity>) =>
        Promise.resolve({ ...user('55'), ...values }),
      ),
    };
    directory = { insert: jest.fn(() => Promise.resolve({})), find: jest.fn() };
    scoped = { for: jest.fn(() => users) };
    global = { for: jest.fn(() => directory) };
    service = new UsersService(
      scoped as unknown as TenantScopedRepositoryFactory,
      global as unknown as GlobalRepositories,
    );
  });

  describe('create', () => {
    it("should insert the user and its login directory entry in the caller's transaction", async () => {
      const created = await service.create(newUser, tx);
      expect(scoped.for).toHaveBeenCalledWith(UserEntity, tx);
      expect(global.for).toHaveBeenCalledWith(LoginDirectoryEntry, tx);
      expect(users.insert).toHaveBeenCalledWith(newUser);
      expect(directory.insert).toHaveBeenCalledWith({
        email: 'alice@example.com',
        tenantId: '7',
        userId: '55',
      });
      expect(created.id).toBe('55');
    });

    it.each([
      ['users_email_key', 'EMAIL_TAKEN'],
      ['users_email_key_102008', 'EMAIL_TAKEN'],
      ['users_username_key_102008', 'USERNAME_TAKEN'],
    ])('should answer a unique violation of %s on the user row as %s', async (constraint, code) => {
      users.insert.mockRejectedValue(uniqueViolation({ constraint }));
      await expect(service.create(newUser, tx)).rejects.toMatchObject({ code });
      expect(directory.insert).not.toHaveBeenCalled();
    });

    it('should answer EMAIL_TAKEN when the login directory already has the email in this tenant', async () => {
      directory.insert.mockRejectedValue(
        uniqueViolation({ constraint: 'login_directory_pkey_102100' }),
      );
      const error = await service.create(newUser, tx).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'EMAIL_TAKEN' });
    });

    it('should read the constraint from the message when Citus relays a worker error without it', async () => {
      users.insert.mockRejectedValue(
        uniqueViolation({
          message: 'duplicate key value violates unique constraint "users_username_key_102040"',
        }),
      );
      await expect(service.create(newUser, tx)).rejects.toMatchObject({
        code: 'USERNAME_TAKEN',
      });
    });

    it('should rethrow other errors untouched, other unique violations included', async () => {
      const otherUnique = uniqueViolation({ constraint: 'users_pkey' });
      users.insert.mockRejectedValue(otherUnique);
      await expect(service.create(newUser, tx)).rejects.toBe(otherUnique);

      const down = new Error('connection terminated');
      users.insert.mockRejectedValue(down);
      await expect(service.create(newUser, tx)).rejects.toBe(down);
    });
  });

  describe('list', () => {
    it('should read ids below the cursor, newest first, one row more than the limit', async () => {
      users.find.mockResolvedValue([user('9'), user('8'), user('7')]);
      const page = await service.list({ cursor: '10', limit: 2 });
      expect(users.find).toHaveBeenCalledWith(
        { id: LessThan('10') },
        { order: { id: 'DESC' }, limit: 3 },
      );
      expect(page.items.map((item) => item.id)).toEqual(['9', '8']);
      expect(page.nextCursor).toBe('8');
      expect(page.items[0]).not.toHaveProperty('passwordHash');
    });

    it('should start from the top with the default page size and no cursor', async () => {
      users.find.mockResolvedValue([user('9')]);
      const page = await service.list({});
      expect(users.find).toHaveBeenCalledWith({}, { order: { id: 'DESC' }, limit: 21 });
      expect(page.nextCursor).toBeNull();
    });
  });

  describe('get', () => {
    it('should answer USER_NOT_FOUND for a user the tenant does not have', async () => {
      await expect(service.get('3')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
      expect(users.findOne).toHaveBeenCalledWith({ id: '3' });
    });
  });

  describe('findWithPasswordHash', () => {
    it('should ask for the password hash, which is not read by default', async () => {
      users.findOne.mockResolvedValue(user('3'));
      await service.findWithPasswordHash('3');
      const [where, options] = users.findOne.mock.calls[0];
      expect(where).toEqual({ id: '3' });
      expect(options?.select).toContain('passwordHash');
      expect(options?.select).toContain('tenantId');
    });
  });

  describe('findLogins', () => {
    it('should look the email up in the login directory, in tenant order', async () => {
      directory.find.mockResolvedValue([]);
      await service.findLogins('a@example.com');
      expect(global.for).toHaveBeenCalledWith(LoginDirectoryEntry);
      expect(directory.find).toHaveBeenCalledWith({
        where: { email: 'a@example.com' },
        order: { tenantId: 'ASC' },
      });
      expect(scoped.for).not.toHaveBeenCalled();
    });
  });
});
