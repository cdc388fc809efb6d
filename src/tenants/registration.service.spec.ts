import * as bcrypt from 'bcrypt';
import { EntityManager } from 'typeorm';
import { AppConfig, loadConfig } from '../config/app-config';
import { PasswordHasher } from '../credentials/passwords';
import { Transactions } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { UserRole } from '../roles/roles';
import { TenantContext } from '../tenancy/tenant-context';
import { UserEntity } from '../users/user.entity';
import { NewUser, UsersService } from '../users/users.service';
import { RegisterDto } from './dto/register.dto';
import { InvitationsService } from './invitations.service';
import { RegistrationService } from './registration.service';
import { TenantEntity } from './tenant.entity';
import { TenantsService } from './tenants.service';

const config: AppConfig = loadConfig({
  NODE_ENV: 'test',
  DATABASE_URL: 'postgres://u@localhost/db',
  BCRYPT_COST: '4',
});

const tenant = (id: string, name: string): TenantEntity => ({
  id,
  name,
  createdAt: new Date(0),
});

const dto = (values: Partial<RegisterDto> = {}): RegisterDto => ({
  tenantName: 'Acme',
  username: 'alice',
  email: 'alice@example.com',
  password: 'correct horse battery',
  ...values,
});

describe(RegistrationService.name, () => {
  const context = new TenantContext();
  const tx = { queryRunner: {} } as unknown as EntityManager;
  /** What happened, in order, with the tenant in context at the time. */
  let events: string[];
  let transactions: { run: jest.Mock };
  let passwords: PasswordHasher;
  let tenants: { findByName: jest.Mock; create: jest.Mock };
  let invitations: { roleOf: jest.Mock; consume: jest.Mock };
  let users: { create: jest.Mock<Promise<UserEntity>, [NewUser, EntityManager]> };
  let service: RegistrationService;

  const scope = () => context.current()?.tenantId ?? 'none';

  beforeEach(async () => {
    events = [];
    passwords = new PasswordHasher(config.bcryptCost);
    await passwords.onModuleInit();
    const hash = passwords.hash.bind(passwords);
    jest.spyOn(passwords, 'hash').mockImplementation(async (password: string) => {
      const hashed = await hash(password);
      events.push('password hashed');
      return hashed;
    });
    transactions = {
      run: jest.fn(async (work: (manager: EntityManager) => Promise<unknown>) => {
        events.push('transaction');
        return work(tx);
      }),
    };
    tenants = {
      findByName: jest.fn(() => Promise.resolve(null)),
      create: jest.fn((name: string) => {
        events.push(`tenant created in scope ${scope()}`);
        return Promise.resolve(tenant('9', name));
      }),
    };
    invitations = {
      roleOf: jest.fn((): Promise<UserRole> => {
        events.push(`invitation read in scope ${scope()}`);
        return Promise.resolve('admin');
      }),
      consume: jest.fn(() => {
        events.push(`invitation consumed in scope ${scope()}`);
        return Promise.resolve();
      }),
    };
    users = {
      create: jest.fn<Promise<UserEntity>, [NewUser, EntityManager]>((user) => {
        events.push(`user created in scope ${scope()}`);
        return Promise.resolve({
          ...user,
          tenantId: scope(),
          id: '55',
          createdAt: new Date(0),
        });
      }),
    };
    service = new RegistrationService(
      transactions as unknown as Transactions,
      passwords,
      context,
      tenants as unknown as TenantsService,
      invitations as unknown as InvitationsService,
      users as unknown as UsersService,
    );
  });

  it('should create a new tenant with the user as its owner, in the new tenant scope', async () => {
    const answer = await service.register(dto());
    expect(tenants.findByName).toHaveBeenCalledWith('Acme', tx);
    expect(tenants.create).toHaveBeenCalledWith('Acme', tx);
    expect(users.create).toHaveBeenCalledWith(expect.objectContaining({ role: 'owner' }), tx);
    expect(invitations.roleOf).not.toHaveBeenCalled();
    expect(invitations.consume).not.toHaveBeenCalled();
    expect(events).toEqual([
      'password hashed',
      'transaction',
      'tenant created in scope none',
      'user created in scope 9',
    ]);
    expect(answer).toEqual({
      tenant: { id: '9', name: 'Acme', createdAt: new Date(0) },
      user: {
        id: '55',
        username: 'alice',
        email: 'alice@example.com',
        role: 'owner',
        createdAt: new Date(0),
      },
    });
    expect(context.current()).toBeUndefined();
  });

  it('should hand the user a bcrypt hash of the password, never the password', async () => {
    await service.register(dto());
    const [created] = users.create.mock.calls[0];
    expect(created.passwordHash).not.toContain('correct horse battery');
    await expect(bcrypt.compare('correct horse battery', created.passwordHash)).resolves.toBe(true);
    expect(created).not.toHaveProperty('password');
  });

  it('should answer TENANT_NAME_TAKEN for an existing name without an invite', async () => {
    tenants.findByName.mockResolvedValue(tenant('3', 'Acme'));
    const error = await service.register(dto()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'TENANT_NAME_TAKEN' });
    expect(tenants.create).not.toHaveBeenCalled();
    expect(users.create).not.toHaveBeenCalled();
  });

  it('should answer INVITATION_INVALID for an unknown name with an invite, creating nothing', async () => {
    await expect(service.register(dto({ inviteCode: 'code-0123456789' }))).rejects.toMatchObject({
      code: 'INVITATION_INVALID',
    });
    expect(tenants.create).not.toHaveBeenCalled();
    expect(invitations.roleOf).not.toHaveBeenCalled();
    expect(users.create).not.toHaveBeenCalled();
  });

  it("should join an existing tenant with the invitation's role and consume it for the new user", async () => {
    tenants.findByName.mockResolvedValue(tenant('3', 'Acme'));
    const answer = await service.register(dto({ inviteCode: 'code-0123456789' }));
    expect(tenants.create).not.toHaveBeenCalled();
    expect(invitations.roleOf).toHaveBeenCalledWith('code-0123456789', tx);
    expect(users.create).toHaveBeenCalledWith(expect.objectContaining({ role: 'admin' }), tx);
    expect(invitations.consume).toHaveBeenCalledWith('code-0123456789', '55', tx);
    expect(events).toEqual([
      'password hashed',
      'transaction',
      'invitation read in scope 3',
      'user created in scope 3',
      'invitation consumed in scope 3',
    ]);
    expect(answer.tenant.id).toBe('3');
    expect(answer.user.role).toBe('admin');
  });

  it('should create no user when the invitation is not usable', async () => {
    tenants.findByName.mockResolvedValue(tenant('3', 'Acme'));
    invitations.roleOf.mockRejectedValue(new AppError('INVITATION_INVALID', 'no'));
    await expect(service.register(dto({ inviteCode: 'code-0123456789' }))).rejects.toMatchObject({
      code: 'INVITATION_INVALID',
    });
    expect(users.create).not.toHaveBeenCalled();
    expect(invitations.consume).not.toHaveBeenCalled();
  });

  it('should fail the registration when the invitation was used meanwhile', async () => {
    tenants.findByName.mockResolvedValue(tenant('3', 'Acme'));
    invitations.consume.mockRejectedValue(new AppError('INVITATION_INVALID', 'used'));
    await expect(service.register(dto({ inviteCode: 'code-0123456789' }))).rejects.toMatchObject({
      code: 'INVITATION_INVALID',
    });
  });
});
