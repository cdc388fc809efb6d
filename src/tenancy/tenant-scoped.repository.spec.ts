import { LessThan, Repository } from 'typeorm';
import { TenantContext, TenantContextMissingError } from './tenant-context';
import { TenantScopedRepository } from './tenant-scoped.repository';

type Row = { tenantId: string; id: string; title?: string };

function fakeRepository() {
  const repository = {
    metadata: { tableName: 'rows' },
    findOne: jest.fn().mockResolvedValue(null),
    find: jest.fn().mockResolvedValue([]),
    create: jest.fn((values: object) => ({ ...values })),
    insert: jest.fn().mockResolvedValue({}),
    update: jest.fn().mockResolvedValue({ affected: 1 }),
    delete: jest.fn().mockResolvedValue({ affected: 1 }),
  };
  return repository;
}

describe(TenantScopedRepository.name, () => {
  const context = new TenantContext();
  let raw: ReturnType<typeof fakeRepository>;
  let scoped: TenantScopedRepository<Row>;

  beforeEach(() => {
    raw = fakeRepository();
    scoped = new TenantScopedRepository<Row>(raw as unknown as Repository<Row>, context);
  });

  const inTenant = <T>(fn: () => Promise<T>) => context.run({ tenantId: '7' }, fn);

  it('should refuse every operation without a tenant in context', async () => {
    await expect(scoped.findOne({ id: '1' })).rejects.toThrow(TenantContextMissingError);
    await expect(scoped.find({})).rejects.toThrow(TenantContextMissingError);
    await expect(scoped.insert({ id: '1' })).rejects.toThrow(TenantContextMissingError);
    await expect(scoped.update({ id: '1' }, { title: 'x' })).rejects.toThrow(
      TenantContextMissingError,
    );
    await expect(scoped.delete({ id: '1' })).rejects.toThrow(TenantContextMissingError);
    expect(raw.findOne).not.toHaveBeenCalled();
    expect(raw.find).not.toHaveBeenCalled();
    expect(raw.insert).not.toHaveBeenCalled();
    expect(raw.update).not.toHaveBeenCalled();
    expect(raw.delete).not.toHaveBeenCalled();
  });

  it('should add the context tenant to every WHERE', async () => {
    await inTenant(async () => {
      await scoped.findOne({ id: '1' });
      await scoped.find({ id: LessThan('9') }, { take: 3 });
      await scoped.update({ id: '1' }, { title: 'x' });
      await scoped.delete({ id: '1' });
    });
    expect(raw.findOne).toHaveBeenCalledWith({ where: { id: '1', tenantId: '7' } });
    expect(raw.find).toHaveBeenCalledWith({ take: 3, where: { id: LessThan('9'), tenantId: '7' } });
    expect(raw.update).toHaveBeenCalledWith({ id: '1', tenantId: '7' }, { title: 'x' });
    expect(raw.delete).toHaveBeenCalledWith({ id: '1', tenantId: '7' });
  });

  it('should stamp the context tenant on inserts, overriding any smuggled tenantId', async () => {
    const smuggled = { id: '1', tenantId: '999' } as unknown as { id: string };
    const row = await inTenant(() => scoped.insert(smuggled));
    expect(row.tenantId).toBe('7');
    expect(raw.insert).toHaveBeenCalledWith({ id: '1', tenantId: '7' });
  });

  it('should fail closed on undefined criteria instead of widening the query', async () => {
    await expect(inTenant(() => scoped.findOne({ id: undefined }))).rejects.toThrow(/undefined/);
    await expect(inTenant(() => scoped.delete({ id: undefined }))).rejects.toThrow(/undefined/);
    expect(raw.findOne).not.toHaveBeenCalled();
    expect(raw.delete).not.toHaveBeenCalled();
  });

  it('should refuse criteria naming another tenant and patches that move rows between tenants', async () => {
    await expect(inTenant(() => scoped.find({ tenantId: '8' }))).rejects.toThrow(/another tenant/);
    await expect(inTenant(() => scoped.update({ id: '1' }, { tenantId: '8' }))).rejects.toThrow(
      /tenantId cannot change/,
    );
  });

  it('should report how many rows an update or delete touched', async () => {
    raw.update.mockResolvedValueOnce({ affected: 0 });
    await expect(inTenant(() => scoped.update({ id: '1' }, { title: 'x' }))).resolves.toBe(0);
    await expect(inTenant(() => scoped.delete({ id: '1' }))).resolves.toBe(1);
  });
});
