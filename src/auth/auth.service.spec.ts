import * as bcrypt from 'bcrypt';
import { AuthenticatedUser } from '../access/principal';
import { AccountsService, Membership } from '../accounts/accounts.service';
import { PasswordRecoveryService } from '../accounts/password-recovery.service';
import { AppConfig, loadConfig } from '../config/app-config';
import { PasswordHasher } from '../credentials/passwords';
import { GlobalRepositories } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { nameKey } from '../names/names';
import { LoginBackoff } from '../rate-limit/login-backoff';
import { MemoryLoginBackoffStore } from '../rate-limit/login-backoff-store';
import { SessionsService } from '../sessions/sessions.service';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantsService } from '../tenants/tenants.service';
import { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AuthService } from './auth.service';
import { TokenService } from './token.service';

jest.mock('bcrypt', () => {
  const actual = jest.requireActual<typeof import('bcrypt')>('bcrypt');
  return {
    ...actual,
    compare: jest.fn((data: string, hash: string) => actual.compare(data, hash)),
  };
});

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
});

const EMAIL = 'a@example.com';
const compare = bcrypt.compare as jest.Mock;

/** The rows of the account query: tenant i has user 100 + i. */
const rows = (hash: string, tenants: number, legacy: Record<string, string> = {}) =>
  Array.from({ length: tenants }, (_, i) => ({
    email: EMAIL,
    password_hash: hash,
    email_verified_at: new Date(0),
    tenant_id: String(i + 1),
    user_id: String(101 + i),
    legacy_password_hash: legacy[String(i + 1)] ?? null,
  }));

const userOf = (tenantId: string, id: string): UserEntity => ({
  tenantId,
  id,
  username: `u${id}`,
  usernameKey: nameKey(`u${id}`),
  email: EMAIL,
  role: 'member',
  createdAt: new Date(0),
  removedAt: null,
});

describe(AuthService.name, () => {
  const context = new TenantContext();
  let hash: string;
  let legacyHash: string;
  let query: jest.Mock;
  let tenants: { findByIds: jest.Mock };
  let users: { get: jest.Mock; member: jest.Mock };
  let sessions: { rotate: jest.Mock; revokeFamily: jest.Mock; revokeSubject: jest.Mock };
  let recovery: { change: jest.Mock };
  let accounts: AccountsService;
  let service: AuthService;

  beforeAll(async () => {
    hash = await bcrypt.hash('right password', 4);
    legacyHash = await bcrypt.hash('old tenant password', 4);
  });

  beforeEach(async () => {
    query = jest.fn(() => Promise.resolve([]));
    const global = { for: jest.fn(() => ({ query })) };
    tenants = {
      findByIds: jest.fn((ids: string[]) =>
        Promise.resolve(
          ids.map((id) => ({
            id,
            name: `T${id}`,
            nameKey: nameKey(`T${id}`),
            createdAt: new Date(0),
          })),
        ),
      ),
    };
    /** A member is read in their tenant's scope: the scope decides which user comes back. */
    users = {
      get: jest.fn((id: string) =>
        Promise.resolve(userOf(context.require('users.get').tenantId, id)),
      ),
      member: jest.fn(),
    };
    // The real rule (401 for a removed member) over the stub's rows.
    users.member.mockImplementation((id: string) => UsersService.prototype.member.call(users, id));
    sessions = {
      rotate: jest.fn(),
      revokeFamily: jest.fn(() => Promise.resolve()),
      revokeSubject: jest.fn(() => Promise.resolve()),
    };
    recovery = { change: jest.fn(() => Promise.resolve()) };
    const passwords = new PasswordHasher(config.bcryptCost);
    await passwords.onModuleInit();
    compare.mockClear();
    accounts = new AccountsService(global as unknown as GlobalRepositories, passwords);
    service = new AuthService(
      accounts,
      recovery as unknown as PasswordRecoveryService,
      new LoginBackoff(new MemoryLoginBackoffStore(config.rateLimit.perEmail)),
      sessions as unknown as SessionsService,
      {
        signTenant: jest.fn(() => Promise.resolve({ accessToken: 'jwt' })),
      } as unknown as TokenService,
      context,
      tenants as unknown as TenantsService,
      users as unknown as UsersService,
    );
  });

  const login = (password: string, tenant?: string, client = '10.0.0.1') =>
    service.verifyCredentials({ email: EMAIL, password, tenant }, client);

  describe('verifyCredentials', () => {
    it('should list all 40 tenants of an account after one read and one bcrypt compare', async () => {
      query.mockResolvedValue(rows(hash, 40));
      const error = await login('right password').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'TENANT_CHOICE_REQUIRED' });
      const listed = (error as AppError).details?.tenants;
      expect(listed).toHaveLength(40);
      expect(listed).toEqual(
        Array.from({ length: 40 }, (_, i) => ({ id: String(i + 1), name: `T${i + 1}` })),
      );
      expect(compare).toHaveBeenCalledTimes(1);
      expect(query).toHaveBeenCalledTimes(1);
      expect(tenants.findByIds).toHaveBeenCalledTimes(1);
    });

    it('should open the named tenant of 40 with one bcrypt compare, reading the member in that tenant', async () => {
      query.mockResolvedValue(rows(hash, 40));
      const result = await login('right password', 't27');
      expect(compare).toHaveBeenCalledTimes(1);
      expect(result.tenant.id).toBe('27');
      expect(result.user).toMatchObject({ tenantId: '27', id: '127' });
      expect(users.get).toHaveBeenCalledWith('127');
      expect(context.current()).toBeUndefined();
    });

    it.each(['T27', 'Ｔ２７', '\u0422' + '27', ' t27 '])(
      'should select by a name that looks the same, by its key: %j',
      async (selector) => {
        query.mockResolvedValue(rows(hash, 40));
        await expect(login('right password', selector)).resolves.toMatchObject({
          tenant: { id: '27' },
        });
      },
    );

    it('should take a tenant id before a tenant name that looks like it', async () => {
      query.mockResolvedValue(rows(hash, 12));
      tenants.findByIds.mockImplementation((ids: string[]) =>
        Promise.resolve(
          ids.map((id) => {
            const name = id === '3' ? 'LO' : `T${id}`;
            return { id, name, nameKey: nameKey(name), createdAt: new Date(0) };
          }),
        ),
      );
      await expect(login('right password', '10')).resolves.toMatchObject({ tenant: { id: '10' } });
      await expect(login('right password', 'lo')).resolves.toMatchObject({ tenant: { id: '3' } });
    });

    it('should accept the tenant by id as well as by name', async () => {
      query.mockResolvedValue(rows(hash, 3));
      await expect(login('right password', '2')).resolves.toMatchObject({ user: { id: '102' } });
    });

    it('should refuse a wrong password for 40 tenants after one bcrypt compare, pre-migration passwords untried', async () => {
      const everyTenant = Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [String(i + 1), legacyHash]),
      );
      query.mockResolvedValue(rows(hash, 40, everyTenant));
      await expect(login('wrong password')).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
        message: 'Invalid email or password',
      });
      expect(compare).toHaveBeenCalledTimes(1);
    });

    it('should spend one bcrypt compare on an unknown email and answer like a wrong password', async () => {
      await expect(login('right password')).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
        message: 'Invalid email or password',
      });
      expect(compare).toHaveBeenCalledTimes(1);
    });

    it('should log in with one tenant without asking which', async () => {
      query.mockResolvedValue(rows(hash, 1));
      await expect(login('right password')).resolves.toMatchObject({ tenant: { id: '1' } });
    });

    it('should open only the named tenant with its pre-migration password', async () => {
      query.mockResolvedValue(rows(hash, 3, { '2': legacyHash }));
      const result = await login('old tenant password', 'T2');
      expect(result.user).toMatchObject({ tenantId: '2', id: '102' });
      await expect(login('old tenant password', 'T1')).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
      await expect(login('old tenant password')).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
    });

    it("should list every opened tenant for the account's password, pre-migration ones included", async () => {
      query.mockResolvedValue(rows(hash, 3, { '2': legacyHash }));
      await expect(login('right password')).rejects.toMatchObject({
        code: 'TENANT_CHOICE_REQUIRED',
        details: { tenants: [{ id: '1' }, { id: '2' }, { id: '3' }] },
      });
    });

    it('should refuse a tenant the account is not a member of, or a member removed since', async () => {
      query.mockResolvedValue(rows(hash, 3));
      await expect(login('right password', 'T9')).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
      users.get.mockRejectedValue(new AppError('USER_NOT_FOUND', 'gone'));
      await expect(login('right password', 'T1')).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
    });

    it('should hand accounts.open no tenant predicate when the login names no tenant', async () => {
      const open = jest.spyOn(accounts, 'open');
      query.mockResolvedValue(rows(hash, 1));
      await login('right password');
      expect(open).toHaveBeenCalledTimes(1);
      expect(open.mock.calls[0]).toHaveLength(3);
      expect(open.mock.calls[0][2]).toBeUndefined();
    });

    it('should hand accounts.open a predicate naming the tenant by id or name, in any case', async () => {
      const open = jest.spyOn(accounts, 'open');
      query.mockResolvedValue(rows(hash, 3));
      await login('right password', 't2');
      const named = open.mock.calls[0][2] as (membership: Membership) => boolean;
      expect(named).toEqual(expect.any(Function));
      const of = (tenantId: string) => named({ tenantId, userId: '1' });
      expect([of('1'), of('2'), of('3'), of('9')]).toEqual([false, true, false, false]);
      open.mockClear();
      await login('right password', '3');
      const byId = open.mock.calls[0][2] as (membership: Membership) => boolean;
      expect(byId({ tenantId: '3', userId: '1' })).toBe(true);
      expect(byId({ tenantId: '2', userId: '1' })).toBe(false);
    });

    /** [case, has an account in tenants 1-3, pre-migration password in tenant 2, tenant, compares] */
    it.each<[string, boolean, boolean, string | undefined, number]>([
      ['an unknown email, no tenant named', false, false, undefined, 1],
      ['a member, no tenant named', true, true, undefined, 1],
      ['an unknown email naming a tenant', false, false, 'T2', 2],
      ['a member naming a tenant with a pre-migration password', true, true, 'T2', 2],
      ['a member naming a tenant without one', true, false, 'T2', 2],
      ['a member naming a tenant it is not in', true, true, 'T9', 2],
    ])(
      'should spend the same bcrypt compares on a wrong password for %s',
      async (_, member, legacy, tenant, expected) => {
        if (member) query.mockResolvedValue(rows(hash, 3, legacy ? { '2': legacyHash } : {}));
        await expect(login('wrong password', tenant)).rejects.toMatchObject({
          code: 'INVALID_CREDENTIALS',
        });
        expect(compare).toHaveBeenCalledTimes(expected);
      },
    );

    it('should pass on a failure to read the member, other than USER_NOT_FOUND, unchanged', async () => {
      query.mockResolvedValue(rows(hash, 3));
      const down = new Error('connection terminated');
      users.get.mockRejectedValue(down);
      await expect(login('right password', 'T1')).rejects.toBe(down);
      const other = new AppError('TENANT_NOT_FOUND', 'not there');
      users.get.mockRejectedValue(other);
      await expect(login('right password', 'T1')).rejects.toBe(other);
    });

    it('should block a client at its Nth failure, before reading anything, and not another client', async () => {
      query.mockResolvedValue(rows(hash, 2));
      for (let i = 1; i < config.rateLimit.perEmail; i += 1) {
        await expect(login('wrong password')).rejects.toMatchObject({
          code: 'INVALID_CREDENTIALS',
        });
      }
      await expect(login('wrong password')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      query.mockClear();
      compare.mockClear();
      const blocked = await login('right password', 'T1').catch((caught: unknown) => caught);
      expect(blocked).toMatchObject({ code: 'TOO_MANY_REQUESTS', headers: { 'Retry-After': '1' } });
      expect(query).not.toHaveBeenCalled();
      expect(compare).not.toHaveBeenCalled();
      await expect(login('right password', 'T1', '10.0.0.2')).resolves.toBeDefined();
    });

    it('should count failures for an unknown email like any other, so blocking tells nothing', async () => {
      for (let i = 0; i < config.rateLimit.perEmail; i += 1) {
        await expect(login('any password')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      }
      await expect(login('any password')).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    });

    it("should clear the client's failures when it logs in", async () => {
      query.mockResolvedValue(rows(hash, 1));
      const fail = () =>
        expect(login('wrong password')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      for (let i = 1; i < config.rateLimit.perEmail; i += 1) await fail();
      await login('right password');
      await fail();
      await expect(login('right password')).resolves.toBeDefined();
    });
  });

  describe('sessions', () => {
    const actor: AuthenticatedUser = {
      kind: 'user',
      userId: '101',
      tenantId: '1',
      role: 'member',
      sessionId: 'f'.repeat(22),
    };
    const rotated = (kind: 'user' | 'operator') => ({
      subject: { tenantId: '1', kind, id: '101' },
      family: 'fam',
      refreshToken: 'next',
      refreshExpiresIn: 60,
    });

    it('should refresh into new tokens for the member as stored now', async () => {
      sessions.rotate.mockResolvedValue(rotated('user'));
      await expect(service.refresh('old')).resolves.toMatchObject({
        accessToken: 'jwt',
        refreshToken: 'next',
        refreshExpiresIn: 60,
      });
    });

    it("should end a removed member's session at refresh", async () => {
      sessions.rotate.mockResolvedValue(rotated('user'));
      users.get.mockRejectedValue(new AppError('USER_NOT_FOUND', 'gone'));
      await expect(service.refresh('old')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(sessions.revokeFamily).toHaveBeenCalledTimes(1);
      expect(sessions.revokeFamily).toHaveBeenCalledWith('1', 'fam');
    });

    it.each([
      ['a database error', new Error('connection terminated')],
      ['another AppError', new AppError('TENANT_NOT_FOUND', 'not there')],
    ])(
      'should pass on %s reading the member at refresh, keeping the session',
      async (_, failure) => {
        sessions.rotate.mockResolvedValue(rotated('user'));
        users.get.mockRejectedValue(failure);
        await expect(service.refresh('old')).rejects.toBe(failure);
        expect(sessions.revokeFamily).not.toHaveBeenCalled();
      },
    );

    it('should refuse an operator session at the tenant refresh', async () => {
      sessions.rotate.mockResolvedValue(rotated('operator'));
      await expect(service.refresh('old')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it('should end this session, or every session of the account in every tenant', async () => {
      await service.logout(actor, false);
      expect(sessions.revokeFamily).toHaveBeenCalledWith('1', actor.sessionId);
      expect(sessions.revokeSubject).not.toHaveBeenCalled();
      query.mockResolvedValue(rows(hash, 3));
      await context.run({ tenantId: '1' }, () => service.logout(actor, true));
      expect(sessions.revokeSubject.mock.calls).toEqual([
        [{ tenantId: '1', kind: 'user', id: '101' }],
        [{ tenantId: '2', kind: 'user', id: '102' }],
        [{ tenantId: '3', kind: 'user', id: '103' }],
      ]);
    });

    it("should change the password of the actor's own email", async () => {
      await context.run({ tenantId: '1' }, () =>
        service.changePassword(actor, 'cur', 'next', '10.0.0.1'),
      );
      expect(recovery.change).toHaveBeenCalledWith(EMAIL, 'cur', 'next', '10.0.0.1');
    });
  });
});
