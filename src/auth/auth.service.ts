import { Injectable } from '@nestjs/common';
import { AuthenticatedUser } from '../access/principal';
import { AccountsService, Membership } from '../accounts/accounts.service';
import { PasswordRecoveryService } from '../accounts/password-recovery.service';
import { AppError } from '../errors/app-error';
import { nameKey } from '../names/names';
import { LoginBackoff } from '../rate-limit/login-backoff';
import { OPERATOR_TENANT, SessionsService } from '../sessions/sessions.service';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantView } from '../tenants/dto/tenant.view';
import { TenantEntity } from '../tenants/tenant.entity';
import { TenantsService } from '../tenants/tenants.service';
import { UserView } from '../users/dto/user.view';
import { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { LoginResponseDto, MeResponseDto, SessionTokensDto } from './dto/auth-responses.dto';
import { LoginDto } from './dto/login.dto';
import { TokenService } from './token.service';

export interface VerifiedLogin {
  user: UserEntity;
  tenant: TenantEntity;
}

const INVALID_CREDENTIALS = 'Invalid email or password';
const invalidCredentials = () => new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);

const notFound = (error: unknown) => error instanceof AppError && error.code === 'USER_NOT_FOUND';

/** Tenant users' login, sessions and who they are; sign-up is the tenants module's. */
@Injectable()
export class AuthService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly recovery: PasswordRecoveryService,
    private readonly backoff: LoginBackoff,
    private readonly sessions: SessionsService,
    private readonly tokens: TokenService,
    private readonly context: TenantContext,
    private readonly tenants: TenantsService,
    private readonly users: UsersService,
  ) {}

  /**
   * One single-shard read of the account with its memberships and one bcrypt check, whatever
   * the number of tenants. Several tenants without a choice ask the caller to choose.
   */
  async verifyCredentials(dto: LoginDto, client: string): Promise<VerifiedLogin> {
    await this.backoff.check(dto.email, client);
    const account = await this.accounts.find(dto.email);
    const ids = account?.memberships.map((membership) => membership.tenantId) ?? [];
    const byId = new Map((await this.tenants.findByIds(ids)).map((tenant) => [tenant.id, tenant]));
    const selector = dto.tenant;
    // An id of one of the account's tenants wins; otherwise a name selects by its key, the one
    // that keeps tenant names apart ("ACME" picks "Acme"; "10" must not pick a tenant named "lo").
    const byTenantId = selector !== undefined && ids.includes(selector);
    const selectedKey = selector === undefined ? undefined : nameKey(selector);
    const named = (membership: Membership) =>
      selector !== undefined &&
      (byTenantId
        ? membership.tenantId === selector
        : byId.get(membership.tenantId)?.nameKey === selectedKey);
    const opened = await this.accounts.open(
      account,
      dto.password,
      selector === undefined ? undefined : named,
    );
    if (opened.length === 0) {
      await this.backoff.failed(dto.email, client);
      throw invalidCredentials();
    }
    await this.backoff.succeeded(dto.email, client);

    const candidates = selector === undefined ? opened : opened.filter(named);
    if (candidates.length === 0) throw invalidCredentials();
    if (candidates.length > 1) {
      throw new AppError(
        'TENANT_CHOICE_REQUIRED',
        'This account exists in several tenants; repeat the login with "tenant" set to one of them',
        {
          tenants: candidates.map(({ tenantId }) => ({
            id: tenantId,
            name: byId.get(tenantId)?.name ?? '',
          })),
        },
      );
    }
    const [{ tenantId, userId }] = candidates;
    const tenant = byId.get(tenantId);
    const user = await this.context
      .run({ tenantId }, () => this.users.get(userId))
      .catch((error: unknown) => {
        if (notFound(error)) return undefined;
        throw error;
      });
    if (!tenant || !user) throw invalidCredentials();
    return { user, tenant };
  }

  async issueToken({ user, tenant }: VerifiedLogin): Promise<LoginResponseDto> {
    const session = await this.sessions.start({
      tenantId: user.tenantId,
      kind: 'user',
      id: user.id,
    });
    return {
      ...(await this.tokens.signTenant(user, session.family)),
      refreshToken: session.refreshToken,
      refreshExpiresIn: session.refreshExpiresIn,
      user: UserView.from(user),
      tenant: TenantView.from(tenant),
    };
  }

  /**
   * The next tokens of a session, with the member's role as it is now; a removed member's
   * session ends here.
   */
  async refresh(refreshToken: string): Promise<SessionTokensDto> {
    if (refreshToken.startsWith(`${OPERATOR_TENANT}.`)) {
      throw new AppError('UNAUTHENTICATED', 'Operator sessions refresh at /admin/auth/refresh');
    }
    const rotated = await this.sessions.rotate(refreshToken);
    const { tenantId, kind, id } = rotated.subject;
    if (kind !== 'user') {
      throw new AppError('UNAUTHENTICATED', 'Operator sessions refresh at /admin/auth/refresh');
    }
    const user = await this.context
      .run({ tenantId }, () => this.users.get(id))
      .catch(async (error: unknown) => {
        // Only a member who is gone ends the session; a failing database stays a 5xx.
        if (!notFound(error)) throw error;
        await this.sessions.revokeFamily(tenantId, rotated.family);
        throw new AppError('UNAUTHENTICATED', 'You are no longer a member of this tenant');
      });
    return {
      ...(await this.tokens.signTenant(user, rotated.family)),
      refreshToken: rotated.refreshToken,
      refreshExpiresIn: rotated.refreshExpiresIn,
    };
  }

  /** Ends this session, or every session of the account in every tenant. */
  async logout(actor: AuthenticatedUser, everywhere: boolean): Promise<void> {
    if (!everywhere) {
      await this.sessions.revokeFamily(actor.tenantId, actor.sessionId);
      return;
    }
    const account = await this.accounts.find((await this.member(actor)).email);
    for (const { tenantId, userId } of account?.memberships ?? []) {
      await this.sessions.revokeSubject({ tenantId, kind: 'user', id: userId });
    }
  }

  /** The current password is checked under the login backoff (PasswordRecoveryService.change). */
  async changePassword(
    actor: AuthenticatedUser,
    current: string,
    next: string,
    client: string,
  ): Promise<void> {
    const { email } = await this.member(actor);
    await this.recovery.change(email, current, next, client);
  }

  async me(actor: AuthenticatedUser): Promise<MeResponseDto> {
    const [user, tenant] = await Promise.all([this.member(actor), this.tenants.current()]);
    return { user: UserView.from(user), tenant: TenantView.from(tenant) };
  }

  /** The member the token was issued to, while they are one (401 otherwise). */
  private member(actor: AuthenticatedUser): Promise<UserEntity> {
    return this.users.member(actor.userId);
  }
}
