import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Transactions } from '../database/global-repositories';
import { MailService } from '../mail/mail.service';
import { verificationMail } from './account-mail';
import { AccountsService, Membership } from './accounts.service';
import { EmailTokensService, tokenInvalid } from './email-tokens.service';

/**
 * The member rows behind a claim (users/, which sits above accounts/): the unproven holder's
 * memberships close, the claimed one opens.
 */
export interface ClaimedMemberships {
  closeUnproven(memberships: readonly Membership[], tx: EntityManager): Promise<void>;
  openClaimed(membership: Membership, tx: EntityManager): Promise<void>;
}

/**
 * Proving that an email is yours. A verified email can join further tenants; an unverified one
 * cannot, and does not keep a later registration of the same address out: that registration
 * waits (as a claim) for this mailbox's confirmation, and once confirmed it becomes the account,
 * whose earlier, unproven memberships are closed.
 */
@Injectable()
export class VerificationService {
  constructor(
    private readonly transactions: Transactions,
    private readonly accounts: AccountsService,
    private readonly tokens: EmailTokensService,
    private readonly mail: MailService,
  ) {}

  /**
   * Mails a new token to an unverified account unless a confirmation mail went there too recently
   * (`mailSpacingMs`); says nothing about whether there is one. (A waiting claim's token is
   * mailed once, by the registration that made it.)
   */
  async resend(email: string): Promise<void> {
    const sent = await this.transactions.run(async (tx) => {
      const account = await this.accounts.findForUpdate(email, tx);
      if (!account || account.emailVerifiedAt) return undefined;
      const token = await this.tokens.issueSpaced(email, 'verify', tx);
      return token && { token, tenants: await this.accounts.tenantNames(email, tx) };
    });
    if (sent) await this.mail.send(verificationMail(email, sent.token, { tenants: sent.tenants }));
  }

  async verify(
    token: string,
    members: ClaimedMemberships,
  ): Promise<{ email: string; claimed: boolean }> {
    return this.transactions.run(async (tx) => {
      const used = await this.tokens.consume(token, 'verify', tx);
      const { email } = used;
      const account = await this.accounts.find(email, tx);
      if (!used.claimTenantId || !used.claimUserId || !used.claimPasswordHash) {
        if (!account) throw tokenInvalid();
        await this.accounts.markVerified(email, tx);
        return { email, claimed: false };
      }
      // The mailbox confirmed a registration that waited: it becomes the account.
      if (account?.emailVerifiedAt) throw tokenInvalid();
      if (account) {
        await members.closeUnproven(account.memberships, tx);
        await this.accounts.removeAllMemberships(email, tx);
        await this.accounts.setPassword(email, used.claimPasswordHash, tx);
        await this.accounts.markVerified(email, tx);
      } else {
        await this.accounts.create(email, used.claimPasswordHash, tx, true);
      }
      const claimed = { tenantId: used.claimTenantId, userId: used.claimUserId };
      await members.openClaimed(claimed, tx);
      await this.accounts.addMembership(email, claimed, tx);
      await this.tokens.revokeAll(email, 'verify', tx);
      return { email, claimed: true };
    });
  }
}
