import { EntityManager, QueryFailedError } from 'typeorm';
import { GlobalRepositories } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantEntity } from './tenant.entity';
import { TenantsService } from './tenants.service';

function uniqueViolation(driverError: { constraint?: string; message?: string }) {
  return new QueryFailedError(
    'INSERT',
    [],
    Object.assign(new Error(driverError.message ?? 'duplicate key'), {
      code: '23505',
      ...driverError,
    }),
  );
}

describe(TenantsService.name, () => {
  const tx = { queryRunner: {} } as unknown as EntityManager;
  let repository: { create: jest.Mock; insert: jest.Mock; findOneBy: jest.Mock };
  let global: { for: jest.Mock };
  let service: TenantsService;

  beforeEach(() => {
    repository = {
      create: jest.fn((values: Partial<TenantEntity>) => ({ ...values })),
      insert: jest.fn(() => Promise.resolve()),
      findOneBy: jest.fn(() => Promise.resolve(null)),
    };
    global = { for: jest.fn(() => repository) };
    service = new TenantsService(global as unknown as GlobalRepositories, new TenantContext());
  });

  describe('findByName', () => {
    it.each(['Acme', 'ACME', '\u0410\u0441me', 'Ａｃｍｅ', ' Acmé '])(
      'should look %j up by the key of Acme, in the transaction',
      async (name) => {
        await service.findByName(name, tx);
        expect(global.for).toHaveBeenCalledWith(TenantEntity, tx);
        expect(repository.findOneBy).toHaveBeenCalledWith({ nameKey: 'acrne' });
      },
    );
  });

  describe('create', () => {
    it('should store the name with its key', async () => {
      const tenant = await service.create('Acme Corp', tx);
      expect(repository.insert).toHaveBeenCalledWith({ name: 'Acme Corp', nameKey: 'acrne corp' });
      expect(tenant).toMatchObject({ name: 'Acme Corp', nameKey: 'acrne corp' });
    });

    it.each([
      { constraint: 'tenants_name_key_key' },
      { constraint: 'tenants_name_key_key_102040' },
      { message: 'duplicate key value violates unique constraint "tenants_name_key_key_102040"' },
    ])('should answer TENANT_NAME_TAKEN for a violation of the key: %j', async (violation) => {
      repository.insert.mockRejectedValue(uniqueViolation(violation));
      const error = await service.create('Асme', tx).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ code: 'TENANT_NAME_TAKEN' });
      expect((error as AppError).message).toContain('looks the same');
    });

    it('should rethrow anything else untouched', async () => {
      const other = uniqueViolation({ constraint: 'tenants_pkey' });
      repository.insert.mockRejectedValue(other);
      await expect(service.create('Acme', tx)).rejects.toBe(other);
    });
  });
});
