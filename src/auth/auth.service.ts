import { Injectable } from '@nestjs/common';
import { PasswordHasher } from '../credentials/passwords';
import { AppError } from '../errors/app-error';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantView } from '../tenants/dto/tenant.view';
import { TenantEntity } from '../tenants/tenant.entity';
import { TenantsService } from '../tenants/tenants.service';
import { UserView } from '../users/dto/user.view';
import { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AuthenticatedUser } from '../access/principal';
import { LoginResponseDto, MeResponseDto } from './dto/auth-responses.dto';
import { LoginDto } from './dto/login.dto';
import { TokenService } from './token.service';

export interface VerifiedLogin {
  user: UserEntity;
  tenant: TenantEntity;
}

const INVALID_CREDENTIALS = 'Invalid email or password';

/** Tenant users' login and who they are; sign-up is the tenants module's. */
@Injectable()
export class AuthService {
  constructor(
    private readonly passwords: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly context: TenantContext,
    private readonly tenants: TenantsService,
    private readonly users: UsersService,
  ) {}

  /**
   * Finds the tenants of this email with one single-shard directory lookup, then checks the
   * password in each. Several matches without a tenant choice ask the caller to choose.
   */
  async verifyCredentials(dto: LoginDto): Promise<VerifiedLogin> {
    const entries = await this.users.findLogins(dto.email);
    const tenants = await this.tenants.findByIds(entries.map((entry) => entry.tenantId));
    const byId = new Map(tenants.map((tenant) => [tenant.id, tenant]));

    const selector = dto.tenant?.toLowerCase();
    const candidates = entries.filter((entry) => {
      if (selector === undefined) return true;
      const tenant = byId.get(entry.tenantId);
      return entry.tenantId === selector || tenant?.name.toLowerCase() === selector;
    });

    if (candidates.length === 0) {
      await this.passwords.verify(dto.password, undefined);
      throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    }

    const checked = await Promise.all(
      candidates.map((entry) =>
        this.context.run({ tenantId: entry.tenantId }, async () => {
          const user = await this.users.findWithPasswordHash(entry.userId);
          const ok = await this.passwords.verify(dto.password, user?.passwordHash);
          return ok && user ? user : undefined;
        }),
      ),
    );
    const matches = checked.filter((user): user is UserEntity => user !== undefined);

    if (matches.length === 0) throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    if (matches.length > 1) {
      throw new AppError(
        'TENANT_CHOICE_REQUIRED',
        'This account exists in several tenants; repeat the login with "tenant" set to one of them',
        {
          tenants: matches.map((user) => ({
            id: user.tenantId,
            name: byId.get(user.tenantId)?.name ?? '',
          })),
        },
      );
    }
    const user = matches[0];
    const tenant = byId.get(user.tenantId);
    if (!tenant) throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    const { passwordHash: _hash, ...safe } = user;
    return { user: safe as UserEntity, tenant };
  }

  async issueToken({ user, tenant }: VerifiedLogin): Promise<LoginResponseDto> {
    return {
      ...(await this.tokens.signTenant(user)),
      user: UserView.from(user),
      tenant: TenantView.from(tenant),
    };
  }

  async me(actor: AuthenticatedUser): Promise<MeResponseDto> {
    const [user, tenant] = await Promise.all([
      this.users.get(actor.userId).catch((error: unknown) => {
        // The token outlived its user: the token is what is wrong, not the URL.
        if (error instanceof AppError && error.code === 'USER_NOT_FOUND') {
          throw new AppError('UNAUTHENTICATED', 'The user of this token no longer exists');
        }
        throw error;
      }),
      this.tenants.current(),
    ]);
    return { user: UserView.from(user), tenant: TenantView.from(tenant) };
  }
}
