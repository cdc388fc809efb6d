import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { GlobalRepositories } from '../database/global-repositories';
import { isConstraint, violatedUniqueConstraint } from '../database/pg-errors';
import { AppError } from '../errors/app-error';
import { nameKey } from '../names/names';
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

  /** The tenant whose name looks like this one (same nameKey: case, accents, look-alikes). */
  findByName(name: string, tx?: EntityManager): Promise<TenantEntity | null> {
    return this.repository(tx).findOneBy({ nameKey: nameKey(name) });
  }

  /** `name` as the registration DTO left it: normalised and checked (names/name-fields.ts). */
  async create(name: string, tx: EntityManager): Promise<TenantEntity> {
    const tenant = this.repository(tx).create({ name, nameKey: nameKey(name) });
    try {
      await this.repository(tx).insert(tenant);
    } catch (error) {
      // Two registrations of look-alike names at once: findByName saw neither, the key does.
      const constraint = violatedUniqueConstraint(error);
      if (constraint !== undefined && isConstraint(constraint, 'tenants_name_key_key')) {
        throw tenantNameTaken(name);
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

export function tenantNameTaken(name: string, hint = ''): AppError {
  return new AppError(
    'TENANT_NAME_TAKEN',
    `Tenant name "${name}" is already taken, or looks the same as one that is${hint}`,
  );
}
