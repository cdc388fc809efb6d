import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import * as bcrypt from 'bcrypt';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../errors/app-error';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantView } from '../tenants/dto/tenant.view';
import { TenantEntity } from '../tenants/tenant.entity';
import { invitationInvalid, TenantsService } from '../tenants/tenants.service';
import { UserView } from '../users/dto/user.view';
import { UserEntity } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AuthenticatedUser, UserTokenClaims } from './authenticated-user';
import { LoginResponseDto, MeResponseDto, RegisterResponseDto } from './dto/auth-responses.dto';
import { LoginDto } from './dto/login.dto';
import { RegisterDto } from './dto/register.dto';

export interface VerifiedLogin {
  user: UserEntity;
  tenant: TenantEntity;
}

const INVALID_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService implements OnModuleInit {
  /** Compared against when the email is unknown, so both failures cost one bcrypt verification. */
  private dummyHash = '';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly jwt: JwtService,
    private readonly context: TenantContext,
    private readonly tenants: TenantsService,
    private readonly users: UsersService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await bcrypt.hash(randomBytes(16).toString('hex'), this.config.bcryptCost);
  }

  /**
   * A new tenant name creates the tenant with this user as owner; an existing one needs an
   * invitation of that tenant. Tenant, user, directory entry and invitation use commit together.
   */
  async register(dto: RegisterDto): Promise<RegisterResponseDto> {
    // Hashing outside the transaction keeps row locks short.
    const passwordHash = await bcrypt.hash(dto.password, this.config.bcryptCost);

    return this.dataSource.transaction(async (manager) => {
      const existing = await this.tenants.findByName(dto.tenantName, manager);
      if (!existing && dto.inviteCode) {
        throw invitationInvalid();
      }
      if (existing && !dto.inviteCode) {
        throw new AppError(
          'TENANT_NAME_TAKEN',
          `Tenant name "${dto.tenantName}" is already taken; joining it needs an inviteCode`,
        );
      }
      const tenant = existing ?? (await this.tenants.create(dto.tenantName, manager));

      return this.context.run({ tenantId: tenant.id }, async () => {
        const role = dto.inviteCode
          ? await this.tenants.invitationRole(dto.inviteCode, manager)
          : 'owner';
        const user = await this.users.create(
          { username: dto.username, email: dto.email, passwordHash, role },
          manager,
        );
        if (dto.inviteCode) await this.tenants.consumeInvitation(dto.inviteCode, user.id, manager);
        return { tenant: TenantView.from(tenant), user: UserView.from(user) };
      });
    });
  }

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
      await bcrypt.compare(dto.password, this.dummyHash);
      throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS);
    }

    const checked = await Promise.all(
      candidates.map((entry) =>
        this.context.run({ tenantId: entry.tenantId }, async () => {
          const user = await this.users.findWithPasswordHash(entry.userId);
          const ok = user ? await bcrypt.compare(dto.password, user.passwordHash) : false;
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
    const claims: UserTokenClaims = {
      scope: 'tenant',
      sub: user.id,
      tid: user.tenantId,
      role: user.role,
    };
    const accessToken = await this.jwt.signAsync(claims);
    return {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: this.config.jwt.ttlSeconds,
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
