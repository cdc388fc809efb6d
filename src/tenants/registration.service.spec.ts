import { EntityManager } from 'typeorm';
import { AuthenticatedUser } from '../access/principal';
import { Account, AccountsService } from '../accounts/accounts.service';
import { Claim, EmailTokensService } from '../accounts/email-tokens.service';
import { VerificationService } from '../accounts/verification.service';
import { AppConfig, loadConfig } from '../config/app-config';
import { PasswordHasher } from '../credentials/passwords';
import { Transactions } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { MailService } from '../mail/mail.service';
import { nameKey } from '../names/names';
import { LoginBackoff } from '../rate-limit/login-backoff';
import { MemoryLoginBackoffStore } from '../rate-limit/login-backoff-store';
import { TenantContext } from '../tenancy/tenant-context';
import { MembersService } from '../users/members.service';
import { UserEntity } from '../users/user.entity';
import { NewUser, UsersService } from '../users/users.service';
import { RegisterDto } from './dto/register.dto';
import { InvitationsService } from './invitations.service';
import { RegistrationService } from './registration.service';
import { TenantEntity } from './tenant.entity';
import { TenantsService } from './tenants.service';

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
});

const EMAIL = 'alice@example.com';
const PASSWORD = 'correct horse battery';
const tenant = (id: string, name: string): TenantEntity => ({
  id,
  name,
  nameKey: nameKey(name),
  createdAt: new Date(0),
});
const dto = (values: Partial<RegisterDto> = {}): RegisterDto => ({
  tenantName: 'Acme',
  username: 'alice',
  email: EMAIL,
  password: PASSWORD,
  ...values,
});
const CLIENT = '203.0.113.7';
const caller = (tenantId: string, userId: string): AuthenticatedUser => ({
  kind: 'user',
  tenantId,
  userId,
  role: 'member',
  sessionId: 's'.repeat(22),
});

describe(RegistrationService.name, () => {
  const context = new TenantContext();
  const tx = { queryRunner: {} } as unknown as EntityManager;
  /** What happened, in order, with the tenant in context at the time. */
  let events: string[];
  let passwords: PasswordHasher;
  let existing: Account | undefined;
  let transactions: { run: jest.Mock };
  let tenants: { findByName: jest.Mock; create: jest.Mock };
  let invitations: { roleOf: jest.Mock; consume: jest.Mock };
  let users: { create: jest.Mock; get: jest.Mock };
  let accounts: Record<
    'find' | 'findForUpdate' | 'isPassword' | 'create' | 'addMembership',
    jest.Mock
  >;
  let tokens: { issue: jest.Mock; issueSpaced: jest.Mock };
  let mail: { send: jest.Mock };
  let verification: { verify: jest.Mock };
  let members: MembersService;
  let backoffStore: MemoryLoginBackoffStore;
  let service: RegistrationService;

  const scope = () => context.current()?.tenantId ?? 'none';
  /** A mock that notes its call (with the scope) and answers `result`. */
  const step = (name: string, result?: unknown) =>
    jest.fn(() => {
      events.push(`${name} in scope ${scope()}`);
      return Promise.resolve(result);
    });

  beforeAll(async () => {
    passwords = new PasswordHasher(config.bcryptCost);
    await passwords.onModuleInit();
  });

  /** An account of this email, with the given password, in the given tenants. */
  const account = async (password: string, verified: boolean, tenantIds: string[] = []) => ({
    email: EMAIL,
    passwordHash: await passwords.hash(password),
    emailVerifiedAt: verified ? new Date(0) : null,
    memberships: tenantIds.map((tenantId) => ({ tenantId, userId: '1', legacyPasswordHash: null })),
  });

  beforeEach(() => {
    events = [];
    existing = undefined;
    transactions = {
      run: jest.fn(async (work: (manager: EntityManager) => Promise<unknown>) => {
        events.push('transaction');
        const result = await work(tx);
        events.push('commit');
        return result;
      }),
    };
    tenants = {
      findByName: jest.fn(() => Promise.resolve(null)),
      create: jest.fn((name: string) => Promise.resolve(tenant('9', name))),
    };
    invitations = {
      roleOf: jest.fn(() => Promise.resolve('admin')),
      consume: jest.fn(() => Promise.resolve()),
    };
    users = {
      create: jest.fn((user: NewUser) => {
        events.push(`user created in scope ${scope()}`);
        const created: UserEntity = {
          ...user,
          usernameKey: nameKey(user.username),
          tenantId: scope(),
          id: '55',
          createdAt: new Date(0),
          removedAt: null,
        };
        return Promise.resolve(created);
      }),
      get: step('caller read', { email: EMAIL }),
    };
    accounts = {
      find: jest.fn(() => Promise.resolve(existing)),
      // In the transaction, under a lock: the account as it is then (unchanged unless a test says).
      findForUpdate: jest.fn(() => Promise.resolve(existing)),
      isPassword: jest.fn((held: Account, password: string) =>
        passwords.verify(password, held.passwordHash),
      ),
      create: step('account created'),
      addMembership: step('membership added'),
    };
    tokens = {
      issue: step('token issued', 'the-token'),
      issueSpaced: step('token issued', 'the-token'),
    };
    mail = { send: step('mail sent', true) };
    verification = { verify: jest.fn(() => Promise.resolve({ email: EMAIL, claimed: true })) };
    backoffStore = new MemoryLoginBackoffStore(3);
    members = { closeUnproven: jest.fn(), openClaimed: jest.fn() } as unknown as MembersService;
    service = new RegistrationService(
      transactions as unknown as Transactions,
      passwords,
      context,
      tenants as unknown as TenantsService,
      invitations as unknown as InvitationsService,
      users as unknown as UsersService,
      accounts as unknown as AccountsService,
      tokens as unknown as EmailTokensService,
      mail as unknown as MailService,
      verification as unknown as VerificationService,
      members,
      new LoginBackoff(backoffStore),
    );
  });

  const mailed = () => (mail.send.mock.calls[0] as [{ to: string; text: string }])[0];

  it('should make a new email an unverified account with its membership and mail a token after the commit', async () => {
    const answer = await service.register(dto(), CLIENT);
    expect(events).toEqual([
      'transaction',
      'user created in scope 9',
      'account created in scope 9',
      'membership added in scope 9',
      'token issued in scope 9',
      'commit',
      'mail sent in scope none',
    ]);
    const [email, hash, manager] = accounts.create.mock.calls[0] as [string, string, unknown];
    expect([email, manager]).toEqual([EMAIL, tx]);
    expect(hash).not.toContain(PASSWORD);
    await expect(passwords.verify(PASSWORD, hash)).resolves.toBe(true);
    expect(accounts.addMembership).toHaveBeenCalledWith(EMAIL, { tenantId: '9', userId: '55' }, tx);
    expect(tokens.issue.mock.calls[0]).toEqual([EMAIL, 'verify', tx]);
    expect(mailed().to).toBe(EMAIL);
    expect(mailed().text).toContain('Token: the-token\n');
    expect(mailed().text).not.toContain('without the password');
    expect(users.create).toHaveBeenCalledWith(
      { username: 'alice', email: EMAIL, role: 'owner', pending: false },
      tx,
    );
    expect(answer.account).toEqual({ emailVerified: false, loginOpen: true });
    expect(answer.user).toMatchObject({ id: '55', email: EMAIL, role: 'owner' });
    expect(answer.tenant).toEqual({ id: '9', name: 'Acme', createdAt: new Date(0) });
  });

  it('should refuse a password against the policy before anything is written', async () => {
    await expect(service.register(dto({ password: 'password1' }), CLIENT)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(transactions.run).not.toHaveBeenCalled();
  });

  describe('with a verified account', () => {
    it("should check the account's password under the login backoff of this client", async () => {
      existing = await account(PASSWORD, true, ['3']);
      for (let i = 0; i < 3; i += 1) {
        await expect(
          service.register(dto({ password: `wrong guess ${i}` }), CLIENT),
        ).rejects.toMatchObject({ code: 'ACCOUNT_EXISTS' });
      }
      await expect(backoffStore.waitMs(EMAIL, CLIENT, Date.now())).resolves.toBeGreaterThan(0);
      accounts.isPassword.mockClear();
      // Even the right password waits, unchecked; another client is not held back.
      await expect(service.register(dto(), CLIENT)).rejects.toMatchObject({
        code: 'TOO_MANY_REQUESTS',
      });
      expect(accounts.isPassword).not.toHaveBeenCalled();
      await expect(service.register(dto(), '198.51.100.1')).resolves.toBeDefined();
    });

    it('should answer ACCOUNT_EXISTS without its password or a session of it', async () => {
      existing = await account(PASSWORD, true, ['3']);
      const error = await service
        .register(dto({ password: 'another good passphrase' }), CLIENT)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'ACCOUNT_EXISTS' });
      expect(transactions.run).not.toHaveBeenCalled();
      expect(mail.send).not.toHaveBeenCalled();
    });

    it('should add a membership for the right password: no new account, no mail', async () => {
      existing = await account(PASSWORD, true, ['3']);
      const hash = jest.spyOn(passwords, 'hash');
      const answer = await service.register(dto(), CLIENT);
      expect(accounts.addMembership).toHaveBeenCalledWith(
        EMAIL,
        { tenantId: '9', userId: '55' },
        tx,
      );
      expect(accounts.create).not.toHaveBeenCalled();
      expect(hash).not.toHaveBeenCalled();
      expect(tokens.issue).not.toHaveBeenCalled();
      expect(mail.send).not.toHaveBeenCalled();
      expect(answer.account).toEqual({ emailVerified: true, loginOpen: true });
      expect(users.create).toHaveBeenCalledWith(expect.objectContaining({ pending: false }), tx);
      hash.mockRestore();
    });

    it('should add a membership for a caller logged in with that email, read in their tenant', async () => {
      existing = await account(PASSWORD, true, ['3']);
      await service.register(
        dto({ password: 'not the account password' }),
        CLIENT,
        caller('3', '1'),
      );
      expect(users.get).toHaveBeenCalledWith('1');
      expect(events[0]).toBe('caller read in scope 3');
      expect(accounts.addMembership).toHaveBeenCalledTimes(1);
      expect(accounts.create).not.toHaveBeenCalled();
      expect(mail.send).not.toHaveBeenCalled();
    });

    it('should not take a password that was replaced meanwhile as proof', async () => {
      existing = await account(PASSWORD, true, ['3']);
      // A reset (or a confirmed claim) between the check and the transaction.
      accounts.findForUpdate.mockResolvedValue(await account('the new password', true, ['3']));
      await expect(service.register(dto(), CLIENT)).rejects.toMatchObject({
        code: 'ACCOUNT_EXISTS',
      });
      expect(users.create).not.toHaveBeenCalled();
      expect(accounts.addMembership).not.toHaveBeenCalled();
    });

    it('should answer ACCOUNT_EXISTS to a caller logged in with another email', async () => {
      existing = await account(PASSWORD, true, ['3']);
      users.get.mockResolvedValue({ email: 'bob@example.com' });
      await expect(
        service.register(dto({ password: 'not the account password' }), CLIENT, caller('3', '1')),
      ).rejects.toMatchObject({ code: 'ACCOUNT_EXISTS' });
    });
  });

  describe('with an unverified account', () => {
    it('should answer EMAIL_NOT_VERIFIED to its password when it is a member elsewhere', async () => {
      existing = await account(PASSWORD, false, ['3']);
      await expect(service.register(dto(), CLIENT)).rejects.toMatchObject({
        code: 'EMAIL_NOT_VERIFIED',
      });
      expect(transactions.run).not.toHaveBeenCalled();
    });

    it('should add a membership for its password when it has no other membership', async () => {
      existing = await account(PASSWORD, false);
      const answer = await service.register(dto(), CLIENT);
      expect(accounts.addMembership).toHaveBeenCalledTimes(1);
      expect(accounts.create).not.toHaveBeenCalled();
      expect(users.create).toHaveBeenCalledWith(expect.objectContaining({ pending: false }), tx);
      expect(answer.account).toEqual({ emailVerified: false, loginOpen: true });
    });

    it('should recheck the account under a lock: a membership added meanwhile means EMAIL_NOT_VERIFIED', async () => {
      existing = await account(PASSWORD, false);
      // Another registration of this email committed between the check and the transaction.
      accounts.findForUpdate.mockResolvedValue({
        ...existing,
        memberships: [{ tenantId: '4', userId: '2', legacyPasswordHash: null }],
      });
      await expect(service.register(dto(), CLIENT)).rejects.toMatchObject({
        code: 'EMAIL_NOT_VERIFIED',
      });
      expect(accounts.findForUpdate).toHaveBeenCalledWith(EMAIL, tx);
      expect(users.create).not.toHaveBeenCalled();
      expect(tenants.create).not.toHaveBeenCalled();
      expect(accounts.addMembership).not.toHaveBeenCalled();
    });

    it('should make another password a claim: a token carrying the membership, mailed, no directory entry', async () => {
      existing = await account('the first password', false, ['3']);
      const answer = await service.register(dto(), CLIENT);
      expect(accounts.addMembership).not.toHaveBeenCalled();
      expect(accounts.create).not.toHaveBeenCalled();
      const claim = tokens.issueSpaced.mock.calls[0][3] as Claim;
      expect(tokens.issueSpaced).toHaveBeenCalledWith(EMAIL, 'verify', tx, claim);
      expect(claim).toMatchObject({ tenantId: '9', userId: '55' });
      await expect(passwords.verify(PASSWORD, claim.passwordHash)).resolves.toBe(true);
      expect(events.slice(-2)).toEqual(['commit', 'mail sent in scope none']);
      expect(mailed().to).toBe(EMAIL);
      expect(answer.account).toEqual({ emailVerified: false, loginOpen: false });
    });

    it('should make a claim beyond the address’s mail budget without a mail, answering the same', async () => {
      existing = await account('the first password', false, ['3']);
      tokens.issueSpaced.mockResolvedValueOnce(undefined);
      const answer = await service.register(dto(), CLIENT);
      expect(events).not.toContain('mail sent in scope none');
      expect(answer.account).toEqual({ emailVerified: false, loginOpen: false });
    });

    it("should make a claim's member inactive until the mailbox confirms", async () => {
      existing = await account('the first password', false, ['3']);
      await service.register(dto(), CLIENT);
      expect(users.create).toHaveBeenCalledWith(
        { username: 'alice', email: EMAIL, role: 'owner', pending: true },
        tx,
      );
    });

    it('should warn in the mail of a claim that confirming it takes the address, naming the tenant', async () => {
      existing = await account('the first password', false, ['3']);
      await service.register(dto(), CLIENT);
      const { text } = mailed();
      expect(text).toContain('(tenant "Acme") was made without the password');
      expect(text).toContain('closes every membership');
      expect(text).toContain('Token: the-token\n');
    });

    it('should refuse a claim with a password against the policy', async () => {
      existing = await account('the first password', false);
      await expect(service.register(dto({ password: EMAIL }), CLIENT)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect(tokens.issue).not.toHaveBeenCalled();
    });
  });

  describe('verifyEmail', () => {
    it('should verify the token with the members service for a claimed membership', async () => {
      await expect(service.verifyEmail('the-token')).resolves.toEqual({
        email: EMAIL,
        claimed: true,
      });
      expect(verification.verify).toHaveBeenCalledWith('the-token', members);
      expect((verification.verify.mock.calls[0] as unknown[])[1]).toBe(members);
    });

    it('should pass on a refused token', async () => {
      verification.verify.mockRejectedValue(new AppError('TOKEN_INVALID', 'used'));
      await expect(service.verifyEmail('used')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    });
  });

  describe('tenants and invitations', () => {
    it('should answer TENANT_NAME_TAKEN for an existing name without an invite', async () => {
      tenants.findByName.mockResolvedValue(tenant('3', 'Acme'));
      await expect(service.register(dto(), CLIENT)).rejects.toMatchObject({
        code: 'TENANT_NAME_TAKEN',
      });
      expect(users.create).not.toHaveBeenCalled();
      expect(accounts.create).not.toHaveBeenCalled();
    });

    it('should answer INVITATION_INVALID for an unknown name with an invite, creating nothing', async () => {
      await expect(
        service.register(dto({ inviteCode: 'code-0123456789' }), CLIENT),
      ).rejects.toMatchObject({
        code: 'INVITATION_INVALID',
      });
      expect(tenants.create).not.toHaveBeenCalled();
      expect(users.create).not.toHaveBeenCalled();
    });

    it("should join an existing tenant with the invitation's role and consume it for the new user", async () => {
      tenants.findByName.mockResolvedValue(tenant('3', 'Acme'));
      const answer = await service.register(dto({ inviteCode: 'code-0123456789' }), CLIENT);
      expect(tenants.create).not.toHaveBeenCalled();
      expect(invitations.roleOf).toHaveBeenCalledWith('code-0123456789', tx);
      expect(users.create).toHaveBeenCalledWith(expect.objectContaining({ role: 'admin' }), tx);
      expect(invitations.consume).toHaveBeenCalledWith('code-0123456789', '55', tx);
      expect(accounts.addMembership).toHaveBeenCalledWith(
        EMAIL,
        { tenantId: '3', userId: '55' },
        tx,
      );
      expect(events).toContain('user created in scope 3');
      expect(answer.user.role).toBe('admin');
    });

    it('should fail the registration, unmailed, when the invitation was used meanwhile', async () => {
      tenants.findByName.mockResolvedValue(tenant('3', 'Acme'));
      invitations.consume.mockRejectedValue(new AppError('INVITATION_INVALID', 'used'));
      await expect(
        service.register(dto({ inviteCode: 'code-0123456789' }), CLIENT),
      ).rejects.toMatchObject({
        code: 'INVITATION_INVALID',
      });
      expect(mail.send).not.toHaveBeenCalled();
    });
  });
});
