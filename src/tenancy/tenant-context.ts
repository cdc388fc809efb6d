import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { UserRole } from '../users/user-role';

export interface TenantScope {
  tenantId: string;
  /** Absent for work done on a tenant's behalf before anyone is logged in (registration, login). */
  userId?: string;
  role?: UserRole;
}

/** Raised when tenant-owned data is touched outside a tenant scope: a bug, never a client error. */
export class TenantContextMissingError extends Error {
  constructor(operation: string) {
    super(`No tenant in context for ${operation}: refusing an unscoped query`);
    this.name = 'TenantContextMissingError';
  }
}

/**
 * The authenticated tenant of the current request, carried by AsyncLocalStorage so services stay
 * singletons (no request-scoped providers rippling through the DI graph).
 */
@Injectable()
export class TenantContext {
  private readonly storage = new AsyncLocalStorage<TenantScope>();

  run<T>(scope: TenantScope, fn: () => T): T {
    return this.storage.run(Object.freeze({ ...scope }), fn);
  }

  current(): TenantScope | undefined {
    return this.storage.getStore();
  }

  require(operation: string): TenantScope {
    const scope = this.storage.getStore();
    if (!scope?.tenantId) throw new TenantContextMissingError(operation);
    return scope;
  }
}
