import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { passwordProblem } from '../credentials/password-policy';
import { PasswordHasher } from '../credentials/passwords';
import { Transactions } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { MailService } from '../mail/mail.service';
import { LoginBackoff } from '../rate-limit/login-backoff';
import { SessionsService } from '../sessions/sessions.service';
import { resetMail } from './account-mail';
import { Account, AccountsService } from './accounts.service';
import { EmailTokensService, tokenInvalid } from './email-tokens.service';

/** A password that breaks the policy, as a 400 naming the field. */
export function assertPasswordAllowed(password: string, email: string): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new AppError('VALIDATION_FAILED', problem, { errors: [problem] });
}

/** Changing a password (knowing it) and resetting it (by mail). Both end every session. */
@Injectable()
export class PasswordRecoveryService {
  constructor(
    private readonly transactions: Transactions,
    private readonly accounts: AccountsService,
    private readonly tokens: EmailTokensService,
    private readonly sessions: SessionsService,
    private readonly passwords: PasswordHasher,
    private readonly mail: MailService,
    private readonly backoff: LoginBackoff,
  ) {}

  /**
   * Mails a reset token when the account exists and no reset mail went there too recently
   * (`mailSpacingMs`); the answer is the same either way.
   */
  async requestReset(email: string): Promise<void> {
    const token = await this.transactions.run(async (tx) => {
      const account = await this.accounts.findForUpdate(email, tx);
      return account ? this.tokens.issueSpaced(email, 'reset', tx) : undefined;
    });
    if (token) await this.mail.send(resetMail(email, token));
  }

  async confirmReset(token: string, password: string): Promise<void> {
    // Only a live token is worth a bcrypt hash (the email, for the policy, comes from it); the
    // hash is made outside the transaction, which then spends the token for good.
    const email = await this.tokens.emailOf(token, 'reset');
    assertPasswordAllowed(password, email);
    const hash = await this.passwords.hash(password);
    await this.transactions.run(async (tx) => {
      const used = await this.tokens.consume(token, 'reset', tx);
      const account = await this.accounts.find(used.email, tx);
      if (!account) throw tokenInvalid();
      await this.replace(account, hash, tx);
      // The token came through the mailbox: the address is proven too.
      await this.accounts.markVerified(used.email, tx);
      await this.tokens.revokeAll(used.email, 'reset', tx);
    });
  }

  /**
   * The current password is checked as a login would be, under this client's backoff: a stolen
   * access token must not become a way to guess the password round it.
   */
  async change(email: string, current: string, next: string, client: string): Promise<void> {
    const account = await this.accounts.find(email);
    const right =
      account &&
      (await this.backoff.attempt(email, client, () => this.accounts.isPassword(account, current)));
    if (!account || !right) {
      throw new AppError('INVALID_CREDENTIALS', 'The current password is not right');
    }
    assertPasswordAllowed(next, email);
    const hash = await this.passwords.hash(next);
    await this.transactions.run(async (tx) => {
      // The password was checked outside the transaction: a confirmed claim, a reset or another
      // change may have replaced it since, and this change must not overwrite theirs.
      if (!(await this.accounts.setPassword(email, hash, tx, account.passwordHash))) {
        throw new AppError('INVALID_CREDENTIALS', 'The current password is not right');
      }
      const now = await this.accounts.find(email, tx);
      await this.endSessions(now ?? account, tx);
    });
  }

  /** The new password, and every session of every membership ended. */
  private async replace(account: Account, hash: string, tx: EntityManager): Promise<void> {
    await this.accounts.setPassword(account.email, hash, tx);
    await this.endSessions(account, tx);
  }

  private async endSessions(account: Account, tx: EntityManager): Promise<void> {
    for (const membership of account.memberships) {
      await this.sessions.revokeSubject(
        { tenantId: membership.tenantId, kind: 'user', id: membership.userId },
        tx,
      );
    }
  }
}
