import { Injectable } from '@nestjs/common';
import { PasswordHasher } from '../credentials/passwords';
import { Transactions } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { TenantContext } from '../tenancy/tenant-context';
import { UserView } from '../users/dto/user.view';
import { UsersService } from '../users/users.service';
import { RegisterDto, RegisterResponseDto } from './dto/register.dto';
import { TenantView } from './dto/tenant.view';
import { invitationInvalid, InvitationsService } from './invitations.service';
import { TenantsService } from './tenants.service';

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
  ) {}

  /**
   * A new tenant name creates the tenant with this user as owner; an existing one needs an
   * invitation of that tenant. Tenant, user, directory entry and invitation use commit together.
   */
  async register(dto: RegisterDto): Promise<RegisterResponseDto> {
    // Hashing outside the transaction keeps row locks short.
    const passwordHash = await this.passwords.hash(dto.password);

    return this.transactions.run(async (tx) => {
      const existing = await this.tenants.findByName(dto.tenantName, tx);
      if (!existing && dto.inviteCode) throw invitationInvalid();
      if (existing && !dto.inviteCode) {
        throw new AppError(
          'TENANT_NAME_TAKEN',
          `Tenant name "${dto.tenantName}" is already taken; joining it needs an inviteCode`,
        );
      }
      const tenant = existing ?? (await this.tenants.create(dto.tenantName, tx));

      return this.context.run({ tenantId: tenant.id }, async () => {
        const role = dto.inviteCode ? await this.invitations.roleOf(dto.inviteCode, tx) : 'owner';
        const user = await this.users.create(
          { username: dto.username, email: dto.email, passwordHash, role },
          tx,
        );
        if (dto.inviteCode) await this.invitations.consume(dto.inviteCode, user.id, tx);
        return { tenant: TenantView.from(tenant), user: UserView.from(user) };
      });
    });
  }
}
