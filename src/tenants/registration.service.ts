import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuthenticatedUser } from '../access/principal';
import { verificationMail } from '../accounts/account-mail';
import { Account, AccountsService } from '../accounts/accounts.service';
import { EmailTokensService } from '../accounts/email-tokens.service';
import { assertPasswordAllowed } from '../accounts/password-recovery.service';
import { VerificationService } from '../accounts/verification.service';
import { PasswordHasher } from '../credentials/passwords';
import { Transactions } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { MailService } from '../mail/mail.service';
import { LoginBackoff } from '../rate-limit/login-backoff';
import { TenantContext } from '../tenancy/tenant-context';
import { UserView } from '../users/dto/user.view';
import { MembersService } from '../users/members.service';
import { UsersService } from '../users/users.service';
import { RegisterDto, RegisterResponseDto } from './dto/register.dto';
import { TenantView } from './dto/tenant.view';
import { invitationInvalid, InvitationsService } from './invitations.service';
import { tenantNameTaken, TenantsService } from './tenants.service';

/**
 * How a registration relates to the email's account:
 * - new: no account yet; one is made (unverified) and a verification mail sent;
 * - member: the person proved they hold the account (its password, or a logged-in session of
 *   it): they become a member of one more tenant, with the account's password;
 * - claim: the email has an unverified account that this person did not prove: the member row
 *   is made inactive and opens only once this person confirms the mailbox (then the email is
 *   theirs and the earlier, unproven memberships close). A claim never confirmed leaves its
 *   inactive row, and the tenant it created, as an unconfirmed new registration would.
 */
type Mode = 'new' | 'member' | 'claim';

/** How the person showed they hold the account: a logged-in session of it, or its password. */
type Proof = 'session' | 'password' | undefined;

/** What a registration does with an existing account, given whether the person proved it. */
function decide(account: Account, proven: boolean, tenantId: string | undefined): Mode {
  if (account.emailVerifiedAt) {
    if (proven) return 'member';
    throw new AppError(
      'ACCOUNT_EXISTS',
      'This email has an account: register with its password, or while logged in with it',
    );
  }
  if (!proven) return 'claim';
  // Already a member there: users.create answers EMAIL_TAKEN.
  const again = account.memberships.some((membership) => membership.tenantId === tenantId);
  if (account.memberships.length > 0 && !again) {
    throw new AppError(
      'EMAIL_NOT_VERIFIED',
      'Confirm your email address (see the mail we sent) before joining another tenant',
    );
  }
  return 'member';
}

/** Sign-up: a new tenant with its owner, or joining an existing tenant with an invitation. */
@Injectable()
export class RegistrationService {
  constructor(
    private readonly transactions: Transactions,
    private readonly passwords: PasswordHasher,
    private readonly context: TenantContext,
    private readonly tenants: TenantsService,
    private readonly invitations: InvitationsService,
    private readonly users: UsersService,
    private readonly accounts: AccountsService,
    private readonly tokens: EmailTokensService,
    private readonly mail: MailService,
    private readonly verification: VerificationService,
    private readonly members: MembersService,
    private readonly backoff: LoginBackoff,
  ) {}

  /** Confirms an email; a claimed registration waiting for it opens (see VerificationService). */
  verifyEmail(token: string): Promise<{ email: string; claimed: boolean }> {
    return this.verification.verify(token, this.members);
  }

  /**
   * A new tenant name creates the tenant with this user as owner; an existing one needs an
   * invitation of that tenant. Tenant, member, account, directory entry and invitation use
   * commit together; the verification mail goes out after the commit.
   */
  async register(
    dto: RegisterDto,
    client: string,
    caller?: AuthenticatedUser,
  ): Promise<RegisterResponseDto> {
    const target = await this.tenants.findByName(dto.tenantName);
    // The tenant name and the invitation are checked before anything about the email, so their
    // answers (and what they cost) never depend on whether the email has an account.
    if (!target && dto.inviteCode) throw invitationInvalid();
    if (target && !dto.inviteCode) {
      throw tenantNameTaken(dto.tenantName, '; joining it needs an inviteCode');
    }
    if (target && dto.inviteCode) {
      const code = dto.inviteCode;
      await this.context.run({ tenantId: target.id }, () => this.invitations.roleOf(code));
    }
    const account = await this.accounts.find(dto.email);
    const proof = account ? await this.proof(dto, account, client, caller) : undefined;
    const mode = account ? decide(account, proof !== undefined, target?.id) : 'new';
    let passwordHash = '';
    if (mode !== 'member') {
      assertPasswordAllowed(dto.password, dto.email);
      // Hashing outside the transaction keeps row locks short.
      passwordHash = await this.passwords.hash(dto.password);
    }

    const { answer, token } = await this.transactions.run(async (tx) => {
      const existing = await this.tenants.findByName(dto.tenantName, tx);
      if (!existing && dto.inviteCode) throw invitationInvalid();
      if (existing && !dto.inviteCode) {
        throw tenantNameTaken(dto.tenantName, '; joining it needs an inviteCode');
      }
      if (account) await this.recheck(account, proof, mode, existing?.id, tx);
      const tenant = existing ?? (await this.tenants.create(dto.tenantName, tx));

      return this.context.run({ tenantId: tenant.id }, async () => {
        const role = dto.inviteCode ? await this.invitations.roleOf(dto.inviteCode, tx) : 'owner';
        // A claim's member stays inactive (not listed, not an owner) until the mailbox confirms.
        const user = await this.users.create(
          { username: dto.username, email: dto.email, role, pending: mode === 'claim' },
          tx,
        );
        if (dto.inviteCode) await this.invitations.consume(dto.inviteCode, user.id, tx);
        const membership = { tenantId: tenant.id, userId: user.id };
        let token: string | undefined;
        if (mode === 'new') {
          await this.accounts.create(dto.email, passwordHash, tx);
          await this.accounts.addMembership(dto.email, membership, tx);
          token = await this.tokens.issue(dto.email, 'verify', tx);
        } else if (mode === 'member') {
          await this.accounts.addMembership(dto.email, membership, tx);
        } else {
          // Within the address's one mail budget: a claim beyond it is made but not mailed (and
          // so cannot be confirmed), and its sender gets the same answer as any other.
          token = await this.tokens.issueSpaced(dto.email, 'verify', tx, {
            passwordHash,
            ...membership,
          });
        }
        const answer: RegisterResponseDto = {
          tenant: TenantView.from(tenant),
          user: UserView.from(user),
          account: {
            emailVerified: mode === 'member' && account?.emailVerifiedAt != null,
            loginOpen: mode !== 'claim',
          },
        };
        return { answer, token };
      });
    });
    if (token) {
      // A first registration's account is in this one tenant so far.
      const about =
        mode === 'claim'
          ? { claimedTenant: answer.tenant.name }
          : { tenants: [answer.tenant.name] };
      await this.mail.send(verificationMail(dto.email, token, about));
    }
    return answer;
  }

  private async proof(
    dto: RegisterDto,
    account: Account,
    client: string,
    caller: AuthenticatedUser | undefined,
  ): Promise<Proof> {
    if (caller !== undefined && (await this.callerEmail(caller)) === dto.email) return 'session';
    return (await this.passwordProves(account, dto.password, client)) ? 'password' : undefined;
  }

  /**
   * The mode was decided on the account as read before the transaction (the password check is
   * too slow to hold a lock). With the account locked, the decision must still come out the
   * same: registrations sent together must not each see an unverified account without a
   * membership, and a password replaced meanwhile (a confirmed claim, a reset) proves nothing.
   */
  private async recheck(
    before: Account,
    proof: Proof,
    mode: Mode,
    tenantId: string | undefined,
    tx: EntityManager,
  ): Promise<void> {
    const now = await this.accounts.findForUpdate(before.email, tx);
    const proven =
      proof === 'session' || (proof === 'password' && now?.passwordHash === before.passwordHash);
    if (!now || decide(now, proven, tenantId) !== mode) {
      throw new AppError(
        'ACCOUNT_EXISTS',
        "This email's account changed while registering; try again",
      );
    }
  }

  /** Whether this is the account's password, under the login backoff (LoginBackoff.attempt). */
  private passwordProves(account: Account, password: string, client: string) {
    return this.backoff.attempt(account.email, client, () =>
      this.accounts.isPassword(account, password),
    );
  }

  private callerEmail(caller: AuthenticatedUser): Promise<string | undefined> {
    return this.context.run({ tenantId: caller.tenantId }, () =>
      this.users.get(caller.userId).then(
        (user) => user.email,
        () => undefined,
      ),
    );
  }
}
