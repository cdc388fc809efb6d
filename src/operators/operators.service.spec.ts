import { Logger } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { QueryFailedError } from 'typeorm';
import { AppConfig, loadConfig } from '../config/app-config';
import { PasswordHasher } from '../credentials/passwords';
import { GlobalRepositories } from '../database/global-repositories';
import { AppError } from '../errors/app-error';
import { OperatorEntity } from './operator.entity';
import { OperatorsService } from './operators.service';

jest.mock('bcrypt', () => {
  const actual = jest.requireActual<typeof import('bcrypt')>('bcrypt');
  return {
    ...actual,
    compare: jest.fn((data: string, hash: string) => actual.compare(data, hash)),
  };
});

const ENV = { NODE_ENV: 'test', DATABASE_URL: 'postgres://u@localhost/db', BCRYPT_COST: '4' };
const plain: AppConfig = loadConfig(ENV);
const withBootstrap: AppConfig = loadConfig({
  ...ENV,
  ADMIN_EMAIL: ' Root@Example.COM ',
  ADMIN_PASSWORD: 'a long operator password',
});

function uniqueViolation(constraint: string) {
  return new QueryFailedError(
    'INSERT INTO operators',
    [],
    Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
      constraint,
    }),
  );
}

function fakeOperators() {
  return {
    count: jest.fn(() => Promise.resolve(0)),
    create: jest.fn((values: Partial<OperatorEntity>) => ({ ...values }) as OperatorEntity),
    insert: jest.fn((operator: OperatorEntity) => {
      operator.id = '1';
      return Promise.resolve({});
    }),
    findOne: jest.fn(() => Promise.resolve<OperatorEntity | null>(null)),
  };
}

describe(OperatorsService.name, () => {
  let passwords: PasswordHasher;
  let operators: ReturnType<typeof fakeOperators>;
  let global: { for: jest.Mock };
  let log: jest.SpyInstance;

  beforeAll(async () => {
    passwords = new PasswordHasher(plain.bcryptCost);
    await passwords.onModuleInit();
  });

  beforeEach(() => {
    (bcrypt.compare as jest.Mock).mockClear();
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    operators = fakeOperators();
    global = { for: jest.fn(() => operators) };
  });

  afterEach(() => log.mockRestore());

  const serviceWith = (config: AppConfig) =>
    new OperatorsService(config, global as unknown as GlobalRepositories, passwords);

  describe('create', () => {
    it('should store the email trimmed and lower-cased, and only a bcrypt hash of the password', async () => {
      const created = await serviceWith(plain).create('  Ops@Example.COM ', 'operator password');
      expect(global.for).toHaveBeenCalledWith(OperatorEntity);
      expect(operators.insert).toHaveBeenCalledTimes(1);
      const [stored] = operators.insert.mock.calls[0];
      expect(stored.email).toBe('ops@example.com');
      expect(stored.passwordHash).not.toBe('operator password');
      await expect(bcrypt.compare('operator password', stored.passwordHash)).resolves.toBe(true);
      expect(created).toBe(stored);
    });

    it('should answer OPERATOR_EXISTS when the email is taken', async () => {
      operators.insert.mockRejectedValue(uniqueViolation('operators_email_key'));
      const error = await serviceWith(plain)
        .create('Ops@Example.com', 'operator password')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({
        code: 'OPERATOR_EXISTS',
        message: 'An operator with email ops@example.com exists',
      });
    });

    it('should rethrow other failures untouched, other unique violations included', async () => {
      const otherUnique = uniqueViolation('operators_pkey');
      operators.insert.mockRejectedValue(otherUnique);
      await expect(serviceWith(plain).create('ops@example.com', 'pw')).rejects.toBe(otherUnique);

      const down = new Error('connection terminated');
      operators.insert.mockRejectedValue(down);
      await expect(serviceWith(plain).create('ops@example.com', 'pw')).rejects.toBe(down);
    });
  });

  describe('verifyCredentials', () => {
    let hash: string;

    beforeAll(async () => {
      hash = await bcrypt.hash('right password', 4);
    });

    const operator = (): OperatorEntity => ({
      id: '1',
      email: 'ops@example.com',
      passwordHash: hash,
      createdAt: new Date(0),
    });

    beforeEach(() => (bcrypt.compare as jest.Mock).mockClear());

    it('should look the operator up by normalised email, with the password hash', async () => {
      operators.findOne.mockResolvedValue(operator());
      await expect(
        serviceWith(plain).verifyCredentials(' OPS@example.com ', 'right password'),
      ).resolves.toEqual(operator());
      expect(operators.findOne).toHaveBeenCalledWith({
        where: { email: 'ops@example.com' },
        select: ['id', 'email', 'passwordHash', 'createdAt'],
      });
      expect(bcrypt.compare).toHaveBeenCalledTimes(1);
    });

    it('should answer an unknown email and a wrong password alike, after one password check each', async () => {
      const unknown = await serviceWith(plain)
        .verifyCredentials('nobody@example.com', 'right password')
        .catch((caught: unknown) => caught);
      expect(bcrypt.compare).toHaveBeenCalledTimes(1);

      (bcrypt.compare as jest.Mock).mockClear();
      operators.findOne.mockResolvedValue(operator());
      const wrong = await serviceWith(plain)
        .verifyCredentials('ops@example.com', 'wrong password')
        .catch((caught: unknown) => caught);
      expect(bcrypt.compare).toHaveBeenCalledTimes(1);

      expect(unknown).toBeInstanceOf(AppError);
      expect(wrong).toBeInstanceOf(AppError);
      expect(unknown).toMatchObject({
        code: 'INVALID_CREDENTIALS',
        message: 'Invalid email or password',
      });
      expect(wrong).toMatchObject({
        code: 'INVALID_CREDENTIALS',
        message: (unknown as AppError).message,
      });
    });
  });

  describe('onApplicationBootstrap', () => {
    it('should do nothing without ADMIN_EMAIL / ADMIN_PASSWORD', async () => {
      await serviceWith(plain).onApplicationBootstrap();
      expect(operators.count).not.toHaveBeenCalled();
      expect(operators.insert).not.toHaveBeenCalled();
    });

    it('should create the bootstrap operator when none exists', async () => {
      await serviceWith(withBootstrap).onApplicationBootstrap();
      expect(operators.insert).toHaveBeenCalledTimes(1);
      expect(log).toHaveBeenCalledWith(expect.stringContaining('root@example.com'));
      const [stored] = operators.insert.mock.calls[0];
      expect(stored.email).toBe('root@example.com');
      await expect(bcrypt.compare('a long operator password', stored.passwordHash)).resolves.toBe(
        true,
      );
    });

    it('should create nothing when an operator already exists', async () => {
      operators.count.mockResolvedValue(1);
      await serviceWith(withBootstrap).onApplicationBootstrap();
      expect(operators.insert).not.toHaveBeenCalled();
    });

    it('should tolerate another instance creating it at the same moment', async () => {
      operators.insert.mockRejectedValue(uniqueViolation('operators_email_key'));
      await expect(serviceWith(withBootstrap).onApplicationBootstrap()).resolves.toBeUndefined();
      expect(operators.insert).toHaveBeenCalledTimes(1);
    });

    it('should let other failures stop the start-up', async () => {
      const down = new Error('connection terminated');
      operators.insert.mockRejectedValue(down);
      await expect(serviceWith(withBootstrap).onApplicationBootstrap()).rejects.toBe(down);
    });
  });
});
