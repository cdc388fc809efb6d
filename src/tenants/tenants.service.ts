import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, MoreThan, Repository } from 'typeorm';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { AppError } from '../errors/app-error';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantScopedRepositoryFactory, Where } from '../tenancy/tenant-scoped.repository';
import { UserRole } from '../users/user-role';
import { CreateInvitationDto, InvitationCreatedDto } from './dto/create-invitation.dto';
import { InvitationEntity } from './invitation.entity';
import { TenantEntity } from './tenant.entity';

const DEFAULT_INVITATION_HOURS = 72;

export function hashInvitationCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

/** Tenants live in a reference table; invitations are tenant-owned and go through the scoped layer. */
@Injectable()
export class TenantsService {
  constructor(
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly scoped: TenantScopedRepositoryFactory,
    private readonly context: TenantContext,
  ) {}

  findById(id: string): Promise<TenantEntity | null> {
    return this.tenants.findOneBy({ id });
  }

  findByIds(ids: string[]): Promise<TenantEntity[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.tenants.findBy({ id: In(ids) });
  }

  findByName(name: string, manager?: EntityManager): Promise<TenantEntity | null> {
    const repository = manager ? manager.getRepository(TenantEntity) : this.tenants;
    return repository
      .createQueryBuilder('tenant')
      .where('lower(tenant.name) = lower(:name)', { name })
      .getOne();
  }

  async create(name: string, manager: EntityManager): Promise<TenantEntity> {
    const tenant = manager.getRepository(TenantEntity).create({ name });
    try {
      await manager.getRepository(TenantEntity).insert(tenant);
    } catch (error) {
      const constraint = violatedUniqueConstraint(error);
      if (constraint !== undefined && isConstraint(constraint, 'tenants_name_lower_key')) {
        throw new AppError('TENANT_NAME_TAKEN', `Tenant name "${name}" is already taken`);
      }
      throw error;
    }
    return tenant;
  }

  async current(): Promise<TenantEntity> {
    const { tenantId } = this.context.require('tenants.current');
    const tenant = await this.findById(tenantId);
    // A verified token for a tenant that no longer exists: treat the token as no longer valid.
    if (!tenant) throw new AppError('UNAUTHENTICATED', 'The tenant of this token no longer exists');
    return tenant;
  }

  async createInvitation(
    actor: AuthenticatedUser,
    dto: CreateInvitationDto,
  ): Promise<InvitationCreatedDto> {
    const role = dto.role ?? 'member';
    if (role === 'admin' && actor.role !== 'owner') {
      throw new AppError('FORBIDDEN', 'Only the tenant owner can invite admins');
    }
    const code = randomBytes(24).toString('base64url');
    const hours = dto.expiresInHours ?? DEFAULT_INVITATION_HOURS;
    const invitation = await this.scoped.for(InvitationEntity).insert({
      codeHash: hashInvitationCode(code),
      role,
      createdBy: actor.userId,
      expiresAt: new Date(Date.now() + hours * 3600_000),
    });
    return { code, expiresAt: invitation.expiresAt, role };
  }

  /** The role an unused, unexpired invitation of the current tenant grants. */
  async invitationRole(code: string, manager: EntityManager): Promise<UserRole> {
    const invitation = await this.scoped.for(InvitationEntity, manager).findOne(usable(code));
    if (!invitation) throw invitationInvalid();
    return invitation.role;
  }

  /**
   * Marks the invitation as used by `userId`. The conditional UPDATE is what makes a code
   * single-use under concurrency: a second transaction re-checks `used_at IS NULL` after the
   * first commits and matches nothing.
   */
  async consumeInvitation(code: string, userId: string, manager: EntityManager): Promise<void> {
    const changed = await this.scoped
      .for(InvitationEntity, manager)
      .update(usable(code), { usedAt: () => 'now()', usedBy: userId });
    if (changed.length !== 1) throw invitationInvalid();
  }
}

/** Criteria of an invitation that can still be used: this code, unused, not expired. */
function usable(code: string): Where<InvitationEntity> {
  return { codeHash: hashInvitationCode(code), usedAt: IsNull(), expiresAt: MoreThan(new Date()) };
}

export function invitationInvalid(): AppError {
  return new AppError(
    'INVITATION_INVALID',
    'The invitation code is not valid for this tenant, has expired or was already used',
  );
}
