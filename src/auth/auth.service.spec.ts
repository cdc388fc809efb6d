import * as bcrypt from 'bcrypt';
import { AppConfig, loadConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { TenantContext } from '../tenancy/tenant-context';
import { TenantsService } from '../tenants/tenants.service';
import { UsersService } from '../users/users.service';
import { PasswordHasher } from '../credentials/passwords';
import { AuthService } from './auth.service';
import { TokenService } from './token.service';

jest.mock('bcrypt', () => {
  const actual = jest.requireActual<typeof import('bcrypt')>('bcrypt');
  return {
    ...actual,
    compare: jest.fn((data: string, hash: string) => actual.compare(data, hash)),
  };
});

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  JWT_SECRET: 's'.repeat(40),
  BCRYPT_COST: '4',
});

describe(AuthService.name, () => {
  const context = new TenantContext();
  let users: { findLogins: jest.Mock; findWithPasswordHash: jest.Mock };
  let tenants: { findByIds: jest.Mock };
  let service: AuthService;
  let hash: string;

  beforeAll(async () => {
    hash = await bcrypt.hash('right password', 4);
  });

  beforeEach(async () => {
    (bcrypt.compare as jest.Mock).mockClear();
    users = {
      findLogins: jest.fn().mockResolvedValue([]),
      findWithPasswordHash: jest.fn(),
    };
    tenants = {
      findByIds: jest.fn((ids: string[]) =>
        Promise.resolve(ids.map((id) => ({ id, name: `T${id}` }))),
      ),
    };
    const passwords = new PasswordHasher(config.bcryptCost);
    await passwords.onModuleInit();
    (bcrypt.compare as jest.Mock).mockClear();
    service = new AuthService(
      passwords,
      {} as TokenService,
      context,
      tenants as unknown as TenantsService,
      users as unknown as UsersService,
    );
  });

  const user = (tenantId: string, id: string) => ({
    tenantId,
    id,
    username: `u${id}`,
    email: 'a@example.com',
    role: 'member',
    createdAt: new Date(),
    passwordHash: hash,
  });

  it('should spend one bcrypt verification on an unknown email, like on a wrong password', async () => {
    await expect(
      service.verifyCredentials({ email: 'nobody@example.com', password: 'x' }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(bcrypt.compare).toHaveBeenCalledTimes(1);

    (bcrypt.compare as jest.Mock).mockClear();
    users.findLogins.mockResolvedValue([{ email: 'a@example.com', tenantId: '1', userId: '10' }]);
    users.findWithPasswordHash.mockResolvedValue(user('1', '10'));
    const wrong = await service
      .verifyCredentials({ email: 'a@example.com', password: 'wrong password' })
      .catch((error: unknown) => error);
    expect(bcrypt.compare).toHaveBeenCalledTimes(1);
    expect(wrong).toBeInstanceOf(AppError);
    expect((wrong as AppError).message).toBe('Invalid email or password');
  });

  it("should look each user up inside that user's tenant scope", async () => {
    users.findLogins.mockResolvedValue([
      { email: 'a@example.com', tenantId: '1', userId: '10' },
      { email: 'a@example.com', tenantId: '2', userId: '20' },
    ]);
    const scopes: Array<string | undefined> = [];
    users.findWithPasswordHash.mockImplementation(async (id: string) => {
      scopes.push(context.current()?.tenantId);
      return id === '10'
        ? user('1', '10')
        : { ...user('2', '20'), passwordHash: await bcrypt.hash('other', 4) };
    });
    const result = await service.verifyCredentials({
      email: 'a@example.com',
      password: 'right password',
    });
    expect(scopes.sort()).toEqual(['1', '2']);
    expect(result.tenant).toEqual({ id: '1', name: 'T1' });
    expect(result.user).not.toHaveProperty('passwordHash');
  });

  it('should ask which tenant when the password matches in several', async () => {
    users.findLogins.mockResolvedValue([
      { email: 'a@example.com', tenantId: '1', userId: '10' },
      { email: 'a@example.com', tenantId: '2', userId: '20' },
    ]);
    users.findWithPasswordHash.mockImplementation((id: string) =>
      Promise.resolve(id === '10' ? user('1', '10') : user('2', '20')),
    );
    await expect(
      service.verifyCredentials({ email: 'a@example.com', password: 'right password' }),
    ).rejects.toMatchObject({
      code: 'TENANT_CHOICE_REQUIRED',
      details: {
        tenants: [
          { id: '1', name: 'T1' },
          { id: '2', name: 'T2' },
        ],
      },
    });
    const chosen = await service.verifyCredentials({
      email: 'a@example.com',
      password: 'right password',
      tenant: 't2',
    });
    expect(chosen.user.id).toBe('20');
  });
});
