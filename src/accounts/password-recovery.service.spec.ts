import { EntityManager } from 'typeorm';
import { AppConfig, loadConfig } from '../config/app-config';
import { PasswordHasher } from '../credentials/passwords';
import { Transactions } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { MailService } from '../mail/mail.service';
import { LoginBackoff } from '../rate-limit/login-backoff';
import { MemoryLoginBackoffStore } from '../rate-limit/login-backoff-store';
import { SessionsService } from '../sessions/sessions.service';
import { Account, AccountsService } from './accounts.service';
import { EmailTokenEntity } from './email-token.entity';
import { EmailTokensService, tokenInvalid } from './email-tokens.service';
import { assertPasswordAllowed, PasswordRecoveryService } from './password-recovery.service';

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
});

const EMAIL = 'alice@example.com';
const NEXT = 'a brand new passphrase';
const CLIENT = '10.0.0.1';

describe(assertPasswordAllowed.name, () => {
  it('should refuse a password against the policy with VALIDATION_FAILED naming the problem', () => {
    let error: unknown;
    try {
      assertPasswordAllowed('Alice@Example.com', EMAIL);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { errors: ['password must not be the email address'] },
    });
    expect(() => assertPasswordAllowed('password1', EMAIL)).toThrow(AppError);
    expect(() => assertPasswordAllowed('aaaaaaaa', EMAIL)).toThrow(AppError);
  });

  it('should let a good passphrase through', () => {
    expect(() => assertPasswordAllowed(NEXT, EMAIL)).not.toThrow();
  });
});

describe(PasswordRecoveryService.name, () => {
  const tx = { queryRunner: {} } as unknown as EntityManager;
  let passwords: PasswordHasher;
  let current: Account;
  let transactions: { run: jest.Mock };
  let accounts: Record<
    'find' | 'findForUpdate' | 'isPassword' | 'setPassword' | 'markVerified',
    jest.Mock
  >;
  let tokens: Record<'issueSpaced' | 'emailOf' | 'consume' | 'revokeAll', jest.Mock>;
  let sessions: { revokeSubject: jest.Mock };
  let mail: { send: jest.Mock };
  let backoff: LoginBackoff;
  let service: PasswordRecoveryService;

  beforeAll(async () => {
    passwords = new PasswordHasher(config.bcryptCost);
    await passwords.onModuleInit();
    current = {
      email: EMAIL,
      passwordHash: await passwords.hash('the current password'),
      emailVerifiedAt: null,
      memberships: [
        { tenantId: '1', userId: '10', legacyPasswordHash: null },
        { tenantId: '2', userId: '20', legacyPasswordHash: await passwords.hash('old one') },
      ],
    };
  });

  beforeEach(() => {
    transactions = {
      run: jest.fn((work: (manager: EntityManager) => Promise<unknown>) => work(tx)),
    };
    accounts = {
      find: jest.fn(() => Promise.resolve(current)),
      findForUpdate: jest.fn(() => Promise.resolve(current)),
      isPassword: jest.fn((account: Account, password: string) =>
        passwords.verify(password, account.passwordHash),
      ),
      setPassword: jest.fn(() => Promise.resolve(true)),
      markVerified: jest.fn(() => Promise.resolve()),
    };
    tokens = {
      issueSpaced: jest.fn(() => Promise.resolve<string | undefined>('reset-token')),
      emailOf: jest.fn(() => Promise.resolve(EMAIL)),
      consume: jest.fn(() =>
        Promise.resolve({ email: EMAIL, purpose: 'reset' } as EmailTokenEntity),
      ),
      revokeAll: jest.fn(() => Promise.resolve()),
    };
    sessions = { revokeSubject: jest.fn(() => Promise.resolve()) };
    mail = { send: jest.fn(() => Promise.resolve(true)) };
    backoff = new LoginBackoff(new MemoryLoginBackoffStore(config.rateLimit.perEmail));
    service = new PasswordRecoveryService(
      transactions as unknown as Transactions,
      accounts as unknown as AccountsService,
      tokens as unknown as EmailTokensService,
      sessions as unknown as SessionsService,
      passwords,
      mail as unknown as MailService,
      backoff,
    );
  });

  /** The hash given to setPassword, checked to be the hash of `password`. */
  const expectPasswordSetTo = async (password: string) => {
    expect(accounts.setPassword).toHaveBeenCalledTimes(1);
    const [email, hash, manager] = accounts.setPassword.mock.calls[0] as [string, string, unknown];
    expect([email, manager]).toEqual([EMAIL, tx]);
    expect(hash).not.toContain(password);
    await expect(passwords.verify(password, hash)).resolves.toBe(true);
  };

  const expectEverySessionEnded = () => {
    expect(sessions.revokeSubject.mock.calls).toEqual([
      [{ tenantId: '1', kind: 'user', id: '10' }, tx],
      [{ tenantId: '2', kind: 'user', id: '20' }, tx],
    ]);
  };

  describe('requestReset', () => {
    it('should mail a reset token to an existing account', async () => {
      await service.requestReset(EMAIL);
      expect(accounts.findForUpdate).toHaveBeenCalledWith(EMAIL, tx);
      expect(tokens.issueSpaced).toHaveBeenCalledWith(EMAIL, 'reset', tx);
      const [sent] = mail.send.mock.calls[0] as [{ to: string; text: string }];
      expect(sent.to).toBe(EMAIL);
      expect(sent.text).toContain('Token: reset-token\n');
    });

    it('should do nothing, quietly, for an unknown email', async () => {
      accounts.findForUpdate.mockResolvedValue(undefined);
      await expect(service.requestReset('nobody@example.com')).resolves.toBeUndefined();
      expect(tokens.issueSpaced).not.toHaveBeenCalled();
      expect(mail.send).not.toHaveBeenCalled();
    });

    it('should mail nothing when a reset mail went out too recently', async () => {
      tokens.issueSpaced.mockResolvedValueOnce(undefined);
      await expect(service.requestReset(EMAIL)).resolves.toBeUndefined();
      expect(mail.send).not.toHaveBeenCalled();
    });
  });

  describe('confirmReset', () => {
    it('should set the new password, end every session, verify the email and spend the reset tokens', async () => {
      await service.confirmReset('reset-token', NEXT);
      expect(tokens.emailOf).toHaveBeenCalledWith('reset-token', 'reset');
      expect(tokens.consume).toHaveBeenCalledWith('reset-token', 'reset', tx);
      await expectPasswordSetTo(NEXT);
      expectEverySessionEnded();
      expect(accounts.markVerified).toHaveBeenCalledWith(EMAIL, tx);
      expect(tokens.revokeAll).toHaveBeenCalledWith(EMAIL, 'reset', tx);
    });

    it('should read the token, hash the password, then spend the token in the transaction', async () => {
      const order: string[] = [];
      tokens.emailOf.mockImplementation(() => {
        order.push('emailOf');
        return Promise.resolve(EMAIL);
      });
      const hash = jest.spyOn(passwords, 'hash').mockImplementation(() => {
        order.push('hash');
        return Promise.resolve('$2b$04$new');
      });
      transactions.run.mockImplementation((work: (manager: EntityManager) => Promise<unknown>) => {
        order.push('transaction');
        return work(tx);
      });
      tokens.consume.mockImplementation(() => {
        order.push('consume');
        return Promise.resolve({ email: EMAIL, purpose: 'reset' } as EmailTokenEntity);
      });
      try {
        await service.confirmReset('reset-token', NEXT);
      } finally {
        hash.mockRestore();
      }
      expect(order).toEqual(['emailOf', 'hash', 'transaction', 'consume']);
      expect(accounts.setPassword).toHaveBeenCalledWith(EMAIL, '$2b$04$new', tx);
    });

    it("should check the policy against the token's email before hashing anything", async () => {
      tokens.emailOf.mockResolvedValue('bob@example.com');
      tokens.consume.mockResolvedValue({ email: 'bob@example.com', purpose: 'reset' });
      const hash = jest.spyOn(passwords, 'hash');
      await expect(service.confirmReset('reset-token', 'BOB@example.com')).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(service.confirmReset('reset-token', 'password1')).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      // The same password is fine for another email: the policy read the token's.
      await expect(service.confirmReset('reset-token', 'ALICE@example.com')).resolves.toBe(
        undefined,
      );
      expect(hash).toHaveBeenCalledTimes(1);
      hash.mockRestore();
      expect(transactions.run).toHaveBeenCalledTimes(1);
    });

    it('should spend no bcrypt hash and open no transaction on an invalid token', async () => {
      tokens.emailOf.mockRejectedValue(tokenInvalid());
      const hash = jest.spyOn(passwords, 'hash');
      await expect(service.confirmReset('bad', NEXT)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      expect(hash).not.toHaveBeenCalled();
      hash.mockRestore();
      expect(transactions.run).not.toHaveBeenCalled();
      expect(tokens.consume).not.toHaveBeenCalled();
      expect(accounts.setPassword).not.toHaveBeenCalled();
    });

    it('should answer TOKEN_INVALID for a token used meanwhile or an account that is gone', async () => {
      tokens.consume.mockRejectedValueOnce(tokenInvalid());
      await expect(service.confirmReset('reset-token', NEXT)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      accounts.find.mockResolvedValueOnce(undefined);
      await expect(service.confirmReset('reset-token', NEXT)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      expect(accounts.setPassword).not.toHaveBeenCalled();
      expect(accounts.markVerified).not.toHaveBeenCalled();
    });
  });

  describe('change', () => {
    it('should set the new password and end every session of every membership', async () => {
      await service.change(EMAIL, 'the current password', NEXT, CLIENT);
      await expectPasswordSetTo(NEXT);
      expectEverySessionEnded();
      expect(accounts.markVerified).not.toHaveBeenCalled();
    });

    it.each([
      ['a wrong current password', 'not the current password'],
      ["a membership's pre-migration password", 'old one'],
    ])('should refuse %s with INVALID_CREDENTIALS', async (_, given) => {
      await expect(service.change(EMAIL, given, NEXT, CLIENT)).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
      expect(accounts.setPassword).not.toHaveBeenCalled();
      expect(sessions.revokeSubject).not.toHaveBeenCalled();
    });

    it('should refuse, changing nothing, when the password was replaced after the check', async () => {
      // A confirmed claim, a reset or another change between the check and the transaction.
      accounts.setPassword.mockResolvedValue(false);
      await expect(
        service.change(EMAIL, 'the current password', NEXT, CLIENT),
      ).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
      const [, , , replacing] = accounts.setPassword.mock.calls[0] as unknown[];
      expect(replacing).toBe(current.passwordHash);
      expect(sessions.revokeSubject).not.toHaveBeenCalled();
    });

    it('should refuse when there is no account', async () => {
      accounts.find.mockResolvedValue(undefined);
      await expect(
        service.change(EMAIL, 'the current password', NEXT, CLIENT),
      ).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
    });

    it('should count a wrong current password as a failed login of this client, and then wait', async () => {
      const change = (client = CLIENT) => service.change(EMAIL, 'wrong', NEXT, client);
      for (let i = 0; i < config.rateLimit.perEmail; i += 1) {
        await expect(change()).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      }
      accounts.isPassword.mockClear();
      await expect(change()).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
      expect(accounts.isPassword).not.toHaveBeenCalled();
      // The login of this email from this client waits too; another client does not.
      await expect(backoff.check(EMAIL, CLIENT)).rejects.toMatchObject({
        code: 'TOO_MANY_REQUESTS',
      });
      await expect(change('10.0.0.2')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    });

    it('should not count a new password that breaks a rule as a failure', async () => {
      for (let i = 0; i < config.rateLimit.perEmail + 1; i += 1) {
        await expect(
          service.change(EMAIL, 'the current password', 'x', CLIENT),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
    });

    it('should refuse a new password against the policy', async () => {
      await expect(
        service.change(EMAIL, 'the current password', 'password1', CLIENT),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(accounts.setPassword).not.toHaveBeenCalled();
      expect(transactions.run).not.toHaveBeenCalled();
    });
  });
});
