import { EntityManager, IsNull, LessThan, MoreThan, QueryFailedError } from 'typeorm';
import { AppError } from '../errors/app-error';
import {
  FindOptions,
  Patch,
  TenantScopedRepositoryFactory,
  Where,
} from '../tenancy/tenant-scoped.repository';
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

function user(id: string, values: Partial<UserEntity> = {}): UserEntity {
  return {
    tenantId: '7',
    id,
    username: `u${id}`,
    usernameKey: `u${id}`,
    email: `u${id}@example.com`,
    role: 'member',
    createdAt: new Date(Number(id) * 1000),
    removedAt: null,
    ...values,
  };
}

const newUser: NewUser = { username: 'alice', email: 'alice@example.com', role: 'admin' };
/** What create stores: the user with the look-alike key of the username (i looks like l). */
const stored = { ...newUser, usernameKey: 'allce' };

describe(UsersService.name, () => {
  const tx = { queryRunner: {} } as unknown as EntityManager;
  let users: {
    find: jest.Mock<Promise<UserEntity[]>, [Where<UserEntity>, FindOptions<UserEntity>?]>;
    findOne: jest.Mock<
      Promise<UserEntity | null>,
      [Where<UserEntity>, Pick<FindOptions<UserEntity>, 'select'>?]
    >;
    insert: jest.Mock<Promise<UserEntity>, [Partial<UserEntity>]>;
    update: jest.Mock<Promise<UserEntity[]>, [Where<UserEntity>, Patch<UserEntity>]>;
  };
  let scoped: { for: jest.Mock };
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
      insert: jest.fn((values: Partial<UserEntity>) => Promise.resolve(user('55', values))),
      update: jest.fn<Promise<UserEntity[]>, [Where<UserEntity>, Patch<UserEntity>]>(() =>
        Promise.resolve([]),
      ),
    };
    scoped = { for: jest.fn(() => users) };
    service = new UsersService(scoped as unknown as TenantScopedRepositoryFactory);
  });

  describe('create', () => {
    it("should insert a new member in the caller's transaction when nobody was removed with that email", async () => {
      const created = await service.create(newUser, tx);
      expect(scoped.for).toHaveBeenCalledWith(UserEntity, tx);
      expect(users.update).toHaveBeenCalledWith(
        { email: 'alice@example.com', removedAt: MoreThan(new Date(0)) },
        { ...stored, removedAt: null },
      );
      expect(users.insert).toHaveBeenCalledWith({ ...stored, removedAt: null });
      expect(created.id).toBe('55');
      expect(created.removedAt).toBeNull();
    });

    it('should insert a pending member inactive, removedAt set to now', async () => {
      const before = Date.now();
      const created = await service.create({ ...newUser, pending: true }, tx);
      const [values] = users.insert.mock.calls[0];
      expect(values).toEqual({ ...stored, removedAt: expect.any(Date) });
      expect(values).not.toHaveProperty('pending');
      const removedAt = (values.removedAt as Date).getTime();
      expect(removedAt).toBeGreaterThanOrEqual(before);
      expect(removedAt).toBeLessThanOrEqual(Date.now());
      expect(created.removedAt).toBeInstanceOf(Date);
    });

    it('should bring a removed member back still inactive when pending', async () => {
      users.update.mockResolvedValue([user('12', { ...newUser, removedAt: new Date() })]);
      const created = await service.create({ ...newUser, pending: true }, tx);
      const [where, patch] = users.update.mock.calls[0];
      expect(where).toEqual({ email: 'alice@example.com', removedAt: MoreThan(new Date(0)) });
      expect(patch).toEqual({ ...stored, removedAt: expect.any(Function) });
      expect((patch.removedAt as () => string)()).toBe('now()');
      expect(created.id).toBe('12');
      expect(users.insert).not.toHaveBeenCalled();
    });

    it('should make a member active when pending is false', async () => {
      await service.create({ ...newUser, pending: false }, tx);
      expect(users.update.mock.calls[0][1]).toEqual({ ...stored, removedAt: null });
      expect(users.insert).toHaveBeenCalledWith({ ...stored, removedAt: null });
    });

    it('should bring a removed member with the same email back as the same member', async () => {
      users.update.mockResolvedValue([user('12', { ...newUser })]);
      const created = await service.create(newUser, tx);
      expect(created.id).toBe('12');
      expect(created.removedAt).toBeNull();
      expect(users.insert).not.toHaveBeenCalled();
    });

    it.each([
      ['users_email_key', 'EMAIL_TAKEN'],
      ['users_email_key_102008', 'EMAIL_TAKEN'],
      ['users_username_key_key', 'USERNAME_TAKEN'],
      ['users_username_key_key_102008', 'USERNAME_TAKEN'],
    ])('should answer a unique violation of %s as %s', async (constraint, code) => {
      users.insert.mockRejectedValue(uniqueViolation({ constraint }));
      const error = await service.create(newUser, tx).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code });
    });

    it('should answer USERNAME_TAKEN when a returning member takes a username in use', async () => {
      users.update.mockRejectedValue(
        uniqueViolation({ constraint: 'users_username_key_key_102008' }),
      );
      await expect(service.create(newUser, tx)).rejects.toMatchObject({ code: 'USERNAME_TAKEN' });
      expect(users.insert).not.toHaveBeenCalled();
    });

    it('should read the constraint from the message when Citus relays a worker error without it', async () => {
      users.insert.mockRejectedValue(
        uniqueViolation({
          message: 'duplicate key value violates unique constraint "users_username_key_key_102040"',
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

      // The directory is the accounts' business now (AccountsService.addMembership).
      const directory = uniqueViolation({ constraint: 'login_directory_pkey_102100' });
      users.insert.mockRejectedValue(directory);
      await expect(service.create(newUser, tx)).rejects.toBe(directory);

      const down = new Error('connection terminated');
      users.insert.mockRejectedValue(down);
      await expect(service.create(newUser, tx)).rejects.toBe(down);
    });
  });

  describe('list', () => {
    it('should read current members below the cursor, newest first, one row more than the limit', async () => {
      users.find.mockResolvedValue([user('9'), user('8'), user('7')]);
      const page = await service.list({ cursor: '10', limit: 2 });
      expect(users.find).toHaveBeenCalledWith(
        { id: LessThan('10'), removedAt: IsNull() },
        { order: { id: 'DESC' }, limit: 3 },
      );
      expect(page.items.map((item) => item.id)).toEqual(['9', '8']);
      expect(page.nextCursor).toBe('8');
      expect(page.items[0]).not.toHaveProperty('removedAt');
    });

    it('should start from the top with the default page size, without removed members', async () => {
      users.find.mockResolvedValue([user('9')]);
      const page = await service.list({});
      expect(users.find).toHaveBeenCalledWith(
        { removedAt: IsNull() },
        { order: { id: 'DESC' }, limit: 21 },
      );
      expect(page.nextCursor).toBeNull();
    });
  });

  describe('get', () => {
    it('should answer a current member, in the given transaction', async () => {
      users.findOne.mockResolvedValue(user('3'));
      await expect(service.get('3', tx)).resolves.toMatchObject({ id: '3' });
      expect(scoped.for).toHaveBeenCalledWith(UserEntity, tx);
    });

    it('should answer USER_NOT_FOUND for a user the tenant does not have, or removed', async () => {
      await expect(service.get('3')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
      expect(users.findOne).toHaveBeenCalledWith({ id: '3', removedAt: IsNull() });
    });
  });

  describe('member', () => {
    it("should answer a token's current member, and UNAUTHENTICATED once they are gone", async () => {
      users.findOne.mockResolvedValueOnce(user('3'));
      await expect(service.member('3', tx)).resolves.toMatchObject({ id: '3' });
      expect(scoped.for).toHaveBeenCalledWith(UserEntity, tx);
      await expect(service.member('3')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });
  });
});
