import { TenantContext, TenantContextMissingError } from './tenant-context';

describe(TenantContext.name, () => {
  const context = new TenantContext();
  const later = () => new Promise((resolve) => setTimeout(resolve, 1));

  it('should carry a request tenant set by the guard into everything the handler awaits', async () => {
    const seen = await context.runRequest(async () => {
      expect(context.current()).toBeUndefined();
      await later();
      context.enter({ tenantId: '7' });
      await later();
      return context.require('test').tenantId;
    });
    expect(seen).toBe('7');
    expect(context.current()).toBeUndefined();
  });

  it('should keep concurrent requests apart', async () => {
    const request = (tenantId: string) =>
      context.runRequest(async () => {
        await later();
        context.enter({ tenantId });
        await later();
        return context.current()?.tenantId;
      });
    await expect(Promise.all([request('1'), request('2'), request('3')])).resolves.toEqual([
      '1',
      '2',
      '3',
    ]);
  });

  it('should refuse a second tenant for one request and a tenant outside a request', () => {
    context.runRequest(() => {
      context.enter({ tenantId: '1' });
      expect(() => context.enter({ tenantId: '2' })).toThrow(/already has a tenant/);
      expect(context.current()).toEqual({ tenantId: '1' });
    });
    expect(() => context.enter({ tenantId: '1' })).toThrow(/outside a request/);
  });

  it('should fail closed when no tenant is set, and keep only the tenant id of a scope', async () => {
    expect(() => context.require('notes.find')).toThrow(TenantContextMissingError);
    const smuggled = { tenantId: '4', role: 'owner' } as { tenantId: string };
    await context.run(smuggled, () => {
      expect(context.current()).toEqual({ tenantId: '4' });
      expect(Object.isFrozen(context.current())).toBe(true);
      return Promise.resolve();
    });
  });
});
