import { CallHandler, ExecutionContext } from '@nestjs/common';
import { defer, firstValueFrom } from 'rxjs';
import { TenantContext } from './tenant-context';
import { TenantContextInterceptor } from './tenant-context.interceptor';

function executionWith(user: unknown, headers: Record<string, string> = {}): ExecutionContext {
  const request = { user, headers, body: { tenantId: '999' } };
  return {
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

describe(TenantContextInterceptor.name, () => {
  const context = new TenantContext();
  const interceptor = new TenantContextInterceptor(context);

  // The handler reads the context when it actually runs, after an async hop, like a real one.
  const handler: CallHandler = {
    handle: () =>
      defer(async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return context.current();
      }),
  };

  it('should run the handler inside the tenant scope of the verified user', async () => {
    const user = { kind: 'user', userId: '3', tenantId: '7', role: 'member' };
    const seen = await firstValueFrom(interceptor.intercept(executionWith(user), handler));
    expect(seen).toEqual({ tenantId: '7', userId: '3', role: 'member' });
    expect(context.current()).toBeUndefined();
  });

  it('should take the tenant from the token only, never from headers or body', async () => {
    const user = { kind: 'user', userId: '3', tenantId: '7', role: 'member' };
    const seen = await firstValueFrom(
      interceptor.intercept(executionWith(user, { 'x-tenant-id': '999' }), handler),
    );
    expect(seen).toMatchObject({ tenantId: '7' });
  });

  it('should leave public requests and operators without a tenant scope', async () => {
    const anonymous = await firstValueFrom(
      interceptor.intercept(executionWith(undefined), handler),
    );
    expect(anonymous).toBeUndefined();
    const operator = { kind: 'operator', operatorId: '1' };
    const seen = await firstValueFrom(interceptor.intercept(executionWith(operator), handler));
    expect(seen).toBeUndefined();
  });
});
