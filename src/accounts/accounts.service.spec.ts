import { EntityManager, EntityTarget, IsNull, ObjectLiteral, QueryFailedError } from 'typeorm';
import { AppConfig, loadConfig } from '../config/app-config';
import { PasswordHasher } from '../credentials/passwords';
import { GlobalRepositories } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { AccountEntity } from './account.entity';
import { Account, AccountsService, Membership } from './accounts.service';
import { LoginDirectoryEntry } from './login-directory.entity';

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
});

function uniqueViolation(constraint: string) {
  return new QueryFailedError(
    'INSERT',
    [],
    Object.assign(new Error('duplicate key'), { code: '23505', constraint }),
  );
}

const row = (tenantId: string | null, userId: string | null, legacy: string | null = null) => ({
  email: 'a@example.com',
  password_hash: 'hash',
  email_verified_at: null,
  tenant_id: tenantId,
  user_id: userId,
  legacy_password_hash: legacy,
});

describe(AccountsService.name, () => {
  const tx = { queryRunner: {} } as unknown as EntityManager;
  let passwords: PasswordHasher;
  let accountHash: string;
  let legacyHash: string;
  let accounts: { query: jest.Mock; insert: jest.Mock; update: jest.Mock };
  let directory: { insert: jest.Mock; delete: jest.Mock; update: jest.Mock };
  let global: { for: jest.Mock };
  let service: AccountsService;

  beforeAll(async () => {
    passwords = new PasswordHasher(config.bcryptCost);
    await passwords.onModuleInit();
    accountHash = await passwords.hash('account password');
    legacyHash = await passwords.hash('old tenant password');
  });

  beforeEach(() => {
    accounts = {
      query: jest.fn(() => Promise.resolve([])),
      insert: jest.fn(() => Promise.resolve({})),
      update: jest.fn(() => Promise.resolve({})),
    };
    directory = {
      insert: jest.fn(() => Promise.resolve({})),
      delete: jest.fn(() => Promise.resolve({})),
      update: jest.fn(() => Promise.resolve({})),
    };
    global = {
      for: jest.fn((entity: EntityTarget<ObjectLiteral>) =>
        entity === AccountEntity ? accounts : directory,
      ),
    };
    service = new AccountsService(global as unknown as GlobalRepositories, passwords);
  });

  /** An account in tenants 1 (plain) and 2 (with a pre-migration password). */
  const account = (): Account => ({
    email: 'a@example.com',
    passwordHash: accountHash,
    emailVerifiedAt: null,
    memberships: [
      { tenantId: '1', userId: '10', legacyPasswordHash: null },
      { tenantId: '2', userId: '20', legacyPasswordHash: legacyHash },
    ],
  });

  describe('find', () => {
    it('should read the account and all its memberships in one query', async () => {
      accounts.query.mockResolvedValue(
        Array.from({ length: 40 }, (_, i) => row(String(i + 1), String(100 + i))),
      );
      const found = await service.find('a@example.com', tx);
      expect(accounts.query).toHaveBeenCalledTimes(1);
      expect(global.for).toHaveBeenCalledWith(AccountEntity, tx);
      const [sql, params] = accounts.query.mock.calls[0] as [string, unknown[]];
      expect(sql).toMatch(/FROM accounts a LEFT JOIN login_directory d ON d.email = a.email/);
      expect(params).toEqual(['a@example.com']);
      expect(found?.passwordHash).toBe('hash');
      expect(found?.memberships).toHaveLength(40);
      expect(found?.memberships[39]).toEqual({
        tenantId: '40',
        userId: '139',
        legacyPasswordHash: null,
      });
    });

    it('should answer an account without memberships with an empty list', async () => {
      const verified = new Date(0);
      accounts.query.mockResolvedValue([{ ...row(null, null), email_verified_at: verified }]);
      await expect(service.find('a@example.com')).resolves.toEqual({
        email: 'a@example.com',
        passwordHash: 'hash',
        emailVerifiedAt: verified,
        memberships: [],
      });
    });

    it('should answer undefined for an unknown email', async () => {
      await expect(service.find('nobody@example.com')).resolves.toBeUndefined();
    });
  });

  describe('open', () => {
    /** The login named this tenant. */
    const naming =
      (tenantId: string) =>
      (membership: Membership): boolean =>
        membership.tenantId === tenantId;
    let verify: jest.SpyInstance<Promise<boolean>, [string, string | null | undefined]>;

    beforeEach(() => {
      verify = jest.spyOn(passwords, 'verify');
    });

    afterEach(() => verify.mockRestore());

    /**
     * The hashes the password was checked against, in order (undefined: the dummy). Compared
     * with toStrictEqual: toEqual does not tell [hash] from [hash, undefined].
     */
    const checkedAgainst = () => verify.mock.calls.map(([, hash]) => hash);

    it("should open every membership with the account's password", async () => {
      const opened = await service.open(account(), 'account password');
      expect(opened.map((membership) => membership.tenantId)).toEqual(['1', '2']);
      expect(checkedAgainst()).toStrictEqual([accountHash]);
    });

    it('should open only the named tenant with its pre-migration password', async () => {
      const opened = await service.open(account(), 'old tenant password', naming('2'));
      expect(opened).toEqual([expect.objectContaining({ tenantId: '2', userId: '20' })]);
      expect(checkedAgainst()).toStrictEqual([accountHash, legacyHash]);
    });

    it('should ask the predicate about the memberships of the account', async () => {
      const named = jest.fn(() => false);
      await service.open(account(), 'old tenant password', named);
      expect(named).toHaveBeenCalledWith(expect.objectContaining({ tenantId: '1', userId: '10' }));
      expect(named).toHaveBeenCalledWith(expect.objectContaining({ tenantId: '2', userId: '20' }));
    });

    it('should not open anything with a pre-migration password when its tenant is not named', async () => {
      await expect(service.open(account(), 'old tenant password')).resolves.toEqual([]);
      await expect(service.open(account(), 'old tenant password', naming('1'))).resolves.toEqual(
        [],
      );
      await expect(service.open(account(), 'old tenant password', naming('3'))).resolves.toEqual(
        [],
      );
    });

    it('should open nothing with a wrong password or without an account', async () => {
      await expect(service.open(account(), 'wrong password', naming('2'))).resolves.toEqual([]);
      await expect(service.open(undefined, 'account password')).resolves.toEqual([]);
      await expect(service.open(undefined, 'old tenant password', naming('2'))).resolves.toEqual(
        [],
      );
    });

    it('should check a failed password once, and nothing more, when no tenant is named', async () => {
      await service.open(account(), 'wrong password');
      expect(checkedAgainst()).toStrictEqual([accountHash]);
      verify.mockClear();
      await service.open(undefined, 'wrong password');
      expect(checkedAgainst()).toStrictEqual([undefined]);
    });

    it.each<[string, boolean, string, boolean]>([
      ['a named tenant with a pre-migration password', true, '2', true],
      ['a named tenant without one', true, '1', false],
      ['a named tenant the account is not in', true, '3', false],
      ['no account at all', false, '2', false],
    ])('should check a failed password a second time for %s', async (_, held, tenantId, legacy) => {
      const given = held ? account() : undefined;
      await expect(service.open(given, 'wrong password', naming(tenantId))).resolves.toEqual([]);
      // The second check goes to the legacy hash or, with none, to the dummy (undefined).
      expect(checkedAgainst()).toStrictEqual([
        held ? accountHash : undefined,
        legacy ? legacyHash : undefined,
      ]);
    });

    it('should not try the pre-migration password of a tenant that was not named', async () => {
      await service.open(account(), 'old tenant password', naming('1'));
      expect(checkedAgainst()).toStrictEqual([accountHash, undefined]);
    });
  });

  describe('isPassword', () => {
    it("should accept the account's password only, not a pre-migration one", async () => {
      await expect(service.isPassword(account(), 'account password')).resolves.toBe(true);
      await expect(service.isPassword(account(), 'old tenant password')).resolves.toBe(false);
    });
  });

  describe('create', () => {
    it('should insert an unverified account unless told it is verified', async () => {
      await service.create('a@example.com', '$2b$04$h', tx);
      expect(global.for).toHaveBeenCalledWith(AccountEntity, tx);
      expect(accounts.insert).toHaveBeenLastCalledWith(
        expect.objectContaining({ email: 'a@example.com', passwordHash: '$2b$04$h' }),
      );
      expect(accounts.insert).toHaveBeenLastCalledWith(
        expect.objectContaining({ emailVerifiedAt: null }),
      );
      await service.create('b@example.com', '$2b$04$h', tx, true);
      expect(accounts.insert).toHaveBeenLastCalledWith(
        expect.objectContaining({ email: 'b@example.com', emailVerifiedAt: expect.any(Date) }),
      );
    });

    it('should answer ACCOUNT_EXISTS when the email was registered at the same moment', async () => {
      accounts.insert.mockRejectedValue(uniqueViolation('accounts_pkey_102300'));
      await expect(service.create('a@example.com', 'h', tx)).rejects.toMatchObject({
        code: 'ACCOUNT_EXISTS',
      });
    });

    it('should rethrow other errors untouched', async () => {
      const other = uniqueViolation('something_else');
      accounts.insert.mockRejectedValue(other);
      await expect(service.create('a@example.com', 'h', tx)).rejects.toBe(other);
    });
  });

  describe('changes', () => {
    it('should set the password and drop every pre-migration password', async () => {
      await service.setPassword('a@example.com', '$2b$04$new', tx);
      expect(accounts.update).toHaveBeenCalledWith(
        { email: 'a@example.com' },
        { passwordHash: '$2b$04$new', passwordChangedAt: expect.any(Function) },
      );
      expect(global.for).toHaveBeenCalledWith(LoginDirectoryEntry, tx);
      expect(directory.update).toHaveBeenCalledWith(
        { email: 'a@example.com' },
        { legacyPasswordHash: null },
      );
    });

    it('should replace a password only while it is still the one that was checked', async () => {
      accounts.update.mockResolvedValueOnce({ affected: 1 });
      await expect(
        service.setPassword('a@example.com', '$2b$04$new', tx, '$2b$04$old'),
      ).resolves.toBe(true);
      expect(accounts.update).toHaveBeenLastCalledWith(
        { email: 'a@example.com', passwordHash: '$2b$04$old' },
        { passwordHash: '$2b$04$new', passwordChangedAt: expect.any(Function) },
      );
      expect(directory.update).toHaveBeenCalledTimes(1);
      accounts.update.mockResolvedValueOnce({ affected: 0 });
      await expect(
        service.setPassword('a@example.com', '$2b$04$new', tx, '$2b$04$old'),
      ).resolves.toBe(false);
      expect(directory.update).toHaveBeenCalledTimes(1);
    });

    it('should keep the first verification time when verifying again', async () => {
      await service.markVerified('a@example.com', tx);
      expect(global.for).toHaveBeenCalledWith(AccountEntity, tx);
      const [where, patch] = accounts.update.mock.calls[0] as [
        object,
        { emailVerifiedAt: () => string },
      ];
      expect(where).toEqual({ email: 'a@example.com', emailVerifiedAt: IsNull() });
      expect(patch.emailVerifiedAt()).toBe('now()');
    });

    it('should add and remove directory entries by email and tenant', async () => {
      await service.addMembership('a@example.com', { tenantId: '1', userId: '10' }, tx);
      expect(directory.insert).toHaveBeenCalledWith({
        email: 'a@example.com',
        tenantId: '1',
        userId: '10',
      });
      await service.removeMembership('a@example.com', '1', tx);
      expect(directory.delete).toHaveBeenLastCalledWith({ email: 'a@example.com', tenantId: '1' });
      await service.removeAllMemberships('a@example.com', tx);
      expect(directory.delete).toHaveBeenLastCalledWith({ email: 'a@example.com' });
      expect(global.for).toHaveBeenCalledWith(LoginDirectoryEntry, tx);
      expect(global.for).not.toHaveBeenCalledWith(AccountEntity, tx);
    });

    it.each(['login_directory_pkey', 'login_directory_pkey_102100'])(
      'should answer EMAIL_TAKEN for a membership already in the directory (%s)',
      async (constraint) => {
        directory.insert.mockRejectedValue(uniqueViolation(constraint));
        const error = await service
          .addMembership('a@example.com', { tenantId: '1', userId: '10' }, tx)
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(AppError);
        expect(error).toMatchObject({ code: 'EMAIL_TAKEN' });
      },
    );

    it('should rethrow other errors of a new membership untouched', async () => {
      const other = uniqueViolation('accounts_pkey');
      directory.insert.mockRejectedValue(other);
      await expect(
        service.addMembership('a@example.com', { tenantId: '1', userId: '10' }, tx),
      ).rejects.toBe(other);
      const down = new Error('connection terminated');
      directory.insert.mockRejectedValue(down);
      await expect(
        service.addMembership('a@example.com', { tenantId: '1', userId: '10' }, tx),
      ).rejects.toBe(down);
    });
  });
});
