import { AppError } from '../errors/app-error';
import { principalFromClaims } from './token.service';
import { VerifiedTokens } from './verified-tokens';

describe(principalFromClaims.name, () => {
  const session = { sid: 'S'.repeat(22), exp: 2_000_000_000 };

  it('should turn tenant claims into a tenant user with their session', () => {
    expect(
      principalFromClaims({ scope: 'tenant', sub: '5', tid: '7', role: 'admin', ...session }),
    ).toEqual({ kind: 'user', userId: '5', tenantId: '7', role: 'admin', sessionId: session.sid });
  });

  it('should turn operator claims into an operator, ignoring tenant claims', () => {
    expect(
      principalFromClaims({ scope: 'operator', sub: '1', tid: '7', role: 'owner', ...session }),
    ).toEqual({ kind: 'operator', operatorId: '1', sessionId: session.sid });
  });

  it.each([
    [{ sub: '5', tid: '7', role: 'admin', ...session }],
    [{ scope: 'tenant', sub: '5', tid: '7', role: 'root', ...session }],
    [{ scope: 'tenant', sub: 'x', tid: '7', role: 'member', ...session }],
    [{ scope: 'tenant', sub: '5', role: 'member', ...session }],
    [{ scope: 'operator', sub: 5, ...session }],
    [{ scope: 'superuser', sub: '1', ...session }],
    // Every token ends and belongs to a session.
    [{ scope: 'tenant', sub: '5', tid: '7', role: 'member', sid: session.sid }],
    [{ scope: 'tenant', sub: '5', tid: '7', role: 'member', exp: session.exp }],
    [{ scope: 'operator', sub: '1', sid: 'short', exp: session.exp }],
  ])('should refuse malformed claims %j', (claims) => {
    expect(() => principalFromClaims(claims)).toThrow(AppError);
  });
});

describe(VerifiedTokens.name, () => {
  const user = {
    kind: 'user',
    userId: '1',
    tenantId: '2',
    role: 'member',
    sessionId: 's'.repeat(22),
  } as const;

  it('should answer a remembered token until it expires, then forget it', () => {
    const tokens = new VerifiedTokens();
    tokens.remember('a.b.c', user, 2_000);
    expect(tokens.get('a.b.c', 1_999)).toBe(user);
    expect(tokens.get('a.b.x', 1_000)).toBeUndefined();
    expect(tokens.get('a.b.c', 2_000)).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('should drop the oldest token when full', () => {
    const tokens = new VerifiedTokens(2);
    tokens.remember('one', user, 10);
    tokens.remember('two', user, 10);
    tokens.remember('three', user, 10);
    expect([tokens.get('one', 0), tokens.get('two', 0), tokens.get('three', 0)]).toEqual([
      undefined,
      user,
      user,
    ]);
  });
});
