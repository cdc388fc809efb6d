import { EntityManager } from 'typeorm';
import { Transactions } from '../database/global-repositories';
import { MailService } from '../mail/mail.service';
import { Account, AccountsService } from './accounts.service';
import { EmailTokenEntity } from './email-token.entity';
import { EmailTokensService, tokenInvalid } from './email-tokens.service';
import { ClaimedMemberships, VerificationService } from './verification.service';

const EMAIL = 'alice@example.com';
const claim = { passwordHash: '$2b$04$claim', tenantId: '9', userId: '55' };

const account = (values: Partial<Account> = {}): Account => ({
  email: EMAIL,
  passwordHash: '$2b$04$old',
  emailVerifiedAt: null,
  memberships: [
    { tenantId: '1', userId: '10', legacyPasswordHash: null },
    { tenantId: '2', userId: '20', legacyPasswordHash: '$2b$04$legacy' },
  ],
  ...values,
});

const used = (values: Partial<EmailTokenEntity> = {}) =>
  ({
    email: EMAIL,
    tokenHash: 'h',
    purpose: 'verify',
    claimPasswordHash: null,
    claimTenantId: null,
    claimUserId: null,
    ...values,
  }) as EmailTokenEntity;

const withClaim = () =>
  used({
    claimPasswordHash: claim.passwordHash,
    claimTenantId: claim.tenantId,
    claimUserId: claim.userId,
  });

describe(VerificationService.name, () => {
  const tx = { queryRunner: {} } as unknown as EntityManager;
  /** What happened, in order. */
  let events: string[];
  let transactions: { run: jest.Mock };
  let accounts: Record<
    | 'find'
    | 'findForUpdate'
    | 'tenantNames'
    | 'markVerified'
    | 'removeAllMemberships'
    | 'setPassword'
    | 'create'
    | 'addMembership',
    jest.Mock
  >;
  let tokens: Record<'issue' | 'issueSpaced' | 'consume' | 'revokeAll', jest.Mock>;
  let members: Record<keyof ClaimedMemberships, jest.Mock>;
  let mail: { send: jest.Mock };
  let service: VerificationService;

  /** A mock noting its call once done; a slow one shows whether the service waits for it. */
  const recorded = (name: string, result?: unknown, slowMs = 0) =>
    jest.fn(async (...args: unknown[]) => {
      if (slowMs) await new Promise((done) => setTimeout(done, slowMs));
      events.push(`${name} ${JSON.stringify(args.filter((arg) => arg !== tx))}`);
      return result;
    });

  beforeEach(() => {
    events = [];
    transactions = {
      run: jest.fn(async (work: (manager: EntityManager) => Promise<unknown>) => {
        const result = await work(tx);
        events.push('commit');
        return result;
      }),
    };
    accounts = {
      find: jest.fn(() => Promise.resolve(account())),
      findForUpdate: jest.fn(() => Promise.resolve(account())),
      tenantNames: jest.fn(() => Promise.resolve(['Acme', 'Globex'])),
      markVerified: recorded('markVerified'),
      removeAllMemberships: recorded('removeAllMemberships'),
      setPassword: recorded('setPassword'),
      create: recorded('create'),
      addMembership: recorded('addMembership'),
    };
    tokens = {
      issue: jest.fn(() => Promise.resolve('the-token')),
      issueSpaced: jest.fn(() => Promise.resolve<string | undefined>('the-token')),
      consume: jest.fn(() => Promise.resolve(used())),
      revokeAll: recorded('revokeAll'),
    };
    members = {
      closeUnproven: recorded('closeUnproven', undefined, 5),
      openClaimed: recorded('openClaimed', undefined, 5),
    };
    mail = { send: recorded('mail', true) };
    service = new VerificationService(
      transactions as unknown as Transactions,
      accounts as unknown as AccountsService,
      tokens as unknown as EmailTokensService,
      mail as unknown as MailService,
    );
  });

  describe('resend', () => {
    it('should issue a verify token for an unverified account in a transaction and mail it after the commit', async () => {
      await service.resend(EMAIL);
      expect(accounts.findForUpdate).toHaveBeenCalledWith(EMAIL, tx);
      expect(tokens.issueSpaced).toHaveBeenCalledWith(EMAIL, 'verify', tx);
      expect(events[0]).toBe('commit');
      expect(events[1]).toMatch(/^mail /);
      expect(mail.send).toHaveBeenCalledTimes(1);
      const [sent] = mail.send.mock.calls[0] as [{ to: string; text: string }];
      expect(sent.to).toBe(EMAIL);
      expect(sent.text).toContain('Token: the-token\n');
      expect(sent.text).not.toContain('Confirm only if');
      // Whoever registered first chose the password: the mail says where, so a stranger's
      // account is not confirmed by mistake.
      expect(sent.text).toContain('the account registered in "Acme", "Globex"');
      expect(sent.text).toContain('do not confirm');
    });

    it('should mail nothing for a verified or unknown email', async () => {
      accounts.findForUpdate.mockResolvedValueOnce(account({ emailVerifiedAt: new Date(0) }));
      await service.resend(EMAIL);
      accounts.findForUpdate.mockResolvedValueOnce(undefined);
      await service.resend('nobody@example.com');
      expect(tokens.issueSpaced).not.toHaveBeenCalled();
      expect(mail.send).not.toHaveBeenCalled();
    });

    it('should mail nothing when a confirmation mail went out too recently', async () => {
      tokens.issueSpaced.mockResolvedValueOnce(undefined);
      await service.resend(EMAIL);
      expect(mail.send).not.toHaveBeenCalled();
    });
  });

  describe('verify', () => {
    it('should mark the account verified with a plain token, keeping its memberships', async () => {
      await expect(service.verify('t', members)).resolves.toEqual({ email: EMAIL, claimed: false });
      expect(tokens.consume).toHaveBeenCalledWith('t', 'verify', tx);
      expect(accounts.find).toHaveBeenCalledWith(EMAIL, tx);
      expect(events).toEqual([`markVerified ["${EMAIL}"]`, 'commit']);
      expect(members.closeUnproven).not.toHaveBeenCalled();
      expect(members.openClaimed).not.toHaveBeenCalled();
    });

    it('should answer TOKEN_INVALID for a plain token whose account is gone', async () => {
      accounts.find.mockResolvedValue(undefined);
      await expect(service.verify('t', members)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      expect(accounts.markVerified).not.toHaveBeenCalled();
    });

    it('should pass on TOKEN_INVALID for a used or expired token, changing nothing', async () => {
      tokens.consume.mockRejectedValue(tokenInvalid());
      await expect(service.verify('t', members)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      expect(accounts.find).not.toHaveBeenCalled();
      expect(events).toEqual([]);
    });

    it('should let a confirmed claim take the unverified account over', async () => {
      tokens.consume.mockResolvedValue(withClaim());
      await expect(service.verify('t', members)).resolves.toEqual({ email: EMAIL, claimed: true });
      expect(events).toEqual([
        'closeUnproven [[{"tenantId":"1","userId":"10","legacyPasswordHash":null},' +
          '{"tenantId":"2","userId":"20","legacyPasswordHash":"$2b$04$legacy"}]]',
        `removeAllMemberships ["${EMAIL}"]`,
        `setPassword ["${EMAIL}","$2b$04$claim"]`,
        `markVerified ["${EMAIL}"]`,
        'openClaimed [{"tenantId":"9","userId":"55"}]',
        `addMembership ["${EMAIL}",{"tenantId":"9","userId":"55"}]`,
        `revokeAll ["${EMAIL}","verify"]`,
        'commit',
      ]);
      const mocks = [
        members.closeUnproven,
        members.openClaimed,
        accounts.removeAllMemberships,
        accounts.setPassword,
        accounts.markVerified,
        accounts.addMembership,
        tokens.revokeAll,
      ];
      for (const mock of mocks) {
        expect(mock).toHaveBeenCalledTimes(1);
        expect(mock.mock.calls[0]).toContain(tx);
      }
      expect(accounts.create).not.toHaveBeenCalled();
    });

    it('should create the account, verified, when a claim finds none', async () => {
      tokens.consume.mockResolvedValue(withClaim());
      accounts.find.mockResolvedValue(undefined);
      await expect(service.verify('t', members)).resolves.toEqual({ email: EMAIL, claimed: true });
      expect(accounts.create).toHaveBeenCalledWith(EMAIL, '$2b$04$claim', tx, true);
      expect(accounts.addMembership).toHaveBeenCalledWith(
        EMAIL,
        { tenantId: '9', userId: '55' },
        tx,
      );
      expect(members.closeUnproven).not.toHaveBeenCalled();
      expect(accounts.removeAllMemberships).not.toHaveBeenCalled();
      expect(events).toEqual([
        `create ["${EMAIL}","$2b$04$claim",true]`,
        'openClaimed [{"tenantId":"9","userId":"55"}]',
        `addMembership ["${EMAIL}",{"tenantId":"9","userId":"55"}]`,
        `revokeAll ["${EMAIL}","verify"]`,
        'commit',
      ]);
    });

    it('should answer TOKEN_INVALID when the claimed member is gone, adding no directory entry', async () => {
      tokens.consume.mockResolvedValue(withClaim());
      members.openClaimed.mockRejectedValue(tokenInvalid());
      await expect(service.verify('t', members)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      expect(accounts.addMembership).not.toHaveBeenCalled();
      expect(tokens.revokeAll).not.toHaveBeenCalled();
      expect(events).not.toContain('commit');
    });

    it('should answer TOKEN_INVALID for a claim on an account verified meanwhile, changing nothing', async () => {
      tokens.consume.mockResolvedValue(withClaim());
      accounts.find.mockResolvedValue(account({ emailVerifiedAt: new Date(0) }));
      await expect(service.verify('t', members)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      expect(events).toEqual([]);
      expect(members.closeUnproven).not.toHaveBeenCalled();
      expect(members.openClaimed).not.toHaveBeenCalled();
    });
  });
});
