import { AppError } from '../errors/app-error';
import { loadConfig } from '../config/app-config';
import { JwtStrategy } from './jwt.strategy';

describe(JwtStrategy.name, () => {
  const strategy = new JwtStrategy(
    loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://x@h/db', JWT_SECRET: 's'.repeat(40) }),
  );

  it('should turn tenant claims into a tenant user', () => {
    expect(strategy.validate({ scope: 'tenant', sub: '5', tid: '7', role: 'admin' })).toEqual({
      kind: 'user',
      userId: '5',
      tenantId: '7',
      role: 'admin',
    });
  });

  it('should turn operator claims into an operator, ignoring tenant claims', () => {
    expect(strategy.validate({ scope: 'operator', sub: '1', tid: '7', role: 'owner' })).toEqual({
      kind: 'operator',
      operatorId: '1',
    });
  });

  it.each([
    [{ sub: '5', tid: '7', role: 'admin' }],
    [{ scope: 'tenant', sub: '5', tid: '7', role: 'root' }],
    [{ scope: 'tenant', sub: 'x', tid: '7', role: 'member' }],
    [{ scope: 'tenant', sub: '5', role: 'member' }],
    [{ scope: 'operator', sub: 5 }],
    [{ scope: 'superuser', sub: '1' }],
  ])('should refuse malformed claims %j', (claims) => {
    expect(() => strategy.validate(claims)).toThrow(AppError);
  });
});
