import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { GlobalRepositories } from '../database/global-repositories';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { AppError } from '../errors/app-error';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantEntity } from './tenant.entity';

/** Tenants live in a reference table (a copy on every node): global, not tenant-scoped. */
@Injectable()
export class TenantsService {
  constructor(
    private readonly global: GlobalRepositories,
    private readonly context: TenantContext,
  ) {}

  private repository(tx?: EntityManager) {
    return this.global.for(TenantEntity, tx);
  }

  findById(id: string): Promise<TenantEntity | null> {
    return this.repository().findOneBy({ id });
  }

  findByIds(ids: string[]): Promise<TenantEntity[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.repository().findBy({ id: In(ids) });
  }

  findByName(name: string, tx?: EntityManager): Promise<TenantEntity | null> {
    return this.repository(tx)
      .createQueryBuilder('tenant')
      .where('lower(tenant.name) = lower(:name)', { name })
      .getOne();
  }

  async create(name: string, tx: EntityManager): Promise<TenantEntity> {
    const tenant = this.repository(tx).create({ name });
    try {
      await this.repository(tx).insert(tenant);
    } catch (error) {
      const constraint = violatedUniqueConstraint(error);
      if (constraint !== undefined && isConstraint(constraint, 'tenants_name_lower_key')) {
        throw new AppError('TENANT_NAME_TAKEN', `Tenant name "${name}" is already taken`);
      }
      throw error;
    }
    return tenant;
  }

  /** The tenant of the current request. */
  async current(): Promise<TenantEntity> {
    const { tenantId } = this.context.require('tenants.current');
    const tenant = await this.findById(tenantId);
    // A verified token for a tenant that no longer exists: treat the token as no longer valid.
    if (!tenant) throw new AppError('UNAUTHENTICATED', 'The tenant of this token no longer exists');
    return tenant;
  }
}
