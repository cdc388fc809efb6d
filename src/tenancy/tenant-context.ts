import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';

export interface TenantScope {
  tenantId: string;
}

/** Raised when tenant-owned data is touched outside a tenant scope: a bug, never a client error. */
export class TenantContextMissingError extends Error {
  constructor(operation: string) {
    super(`No tenant in context for ${operation}: refusing an unscoped query`);
    this.name = 'TenantContextMissingError';
  }
}

/** What AsyncLocalStorage carries: a request's slot, filled once its token is verified. */
interface Slot {
  scope?: Readonly<TenantScope>;
}

/**
 * The tenant of the current request, carried by AsyncLocalStorage so services stay singletons
 * (no request-scoped providers rippling through the DI graph).
 *
 * The HTTP layer opens an empty slot around every request (`runRequest`); the authentication
 * guard fills it from the verified token (`enter`), once. Work done on a tenant's behalf before
 * anyone is logged in (registration, login) runs inside an explicit scope (`run`).
 */
@Injectable()
export class TenantContext {
  private readonly storage = new AsyncLocalStorage<Slot>();

  run<T>(scope: TenantScope, fn: () => T): T {
    return this.storage.run({ scope: Object.freeze({ tenantId: scope.tenantId }) }, fn);
  }

  runRequest<T>(fn: () => T): T {
    return this.storage.run({}, fn);
  }

  /** Sets the tenant of the current request; a second call, or a call outside one, is a bug. */
  enter(scope: TenantScope): void {
    const slot = this.storage.getStore();
    if (!slot) throw new Error('TenantContext.enter outside a request: no slot was opened');
    if (slot.scope) throw new Error('TenantContext.enter: this request already has a tenant');
    slot.scope = Object.freeze({ tenantId: scope.tenantId });
  }

  current(): TenantScope | undefined {
    return this.storage.getStore()?.scope;
  }

  require(operation: string): TenantScope {
    const scope = this.current();
    if (!scope?.tenantId) throw new TenantContextMissingError(operation);
    return scope;
  }
}
