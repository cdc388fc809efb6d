import { createHmac } from 'node:crypto';
import fc from 'fast-check';

/**
 * Bad bearer tokens. The e2e secret is known here, so tokens can be signed correctly: those are
 * always unusable in some way (expired, malformed claims, wrong issuer). A correctly signed token
 * with well-formed claims is a credential whatever it says, so none is forged: it would only test
 * that the service trusts its own signature.
 */
export type GarbageToken =
  | { kind: 'random'; text: string }
  | { kind: 'alg-none' }
  | { kind: 'wrong-secret' }
  | { kind: 'expired' }
  | { kind: 'expired-operator' }
  | { kind: 'tampered' }
  | { kind: 'bad-claim'; claim: string; value: fc.JsonValue }
  | { kind: 'huge' };

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** What the service under test signs and checks tokens with. */
export interface JwtSettings {
  secret: string;
  issuer: string;
  audience: string;
}

export function signJwt(
  payload: Record<string, unknown>,
  secret: string,
  header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' },
): string {
  const body = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  if (header.alg === 'none') return `${body}.`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** What the service puts in a tenant user's token (see src/auth/token.service.ts). */
export function tenantClaims(
  user: { userId: string; tenantId: string; role: string },
  jwt: JwtSettings,
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    scope: 'tenant',
    sub: user.userId,
    tid: user.tenantId,
    role: user.role,
    sid: 'AAAAAAAAAAAAAAAAAAAAAA',
    iat: now,
    exp: now + 300,
    iss: jwt.issuer,
    aud: jwt.audience,
  };
}

/** Each makes the claims unusable: a wrong type, a value outside its set, a missing expiry. */
const badClaim: fc.Arbitrary<{ claim: string; value: fc.JsonValue }> = fc.oneof(
  fc.record({
    claim: fc.constantFrom('sub', 'tid'),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).filter((value) => typeof value !== 'string'),
      fc.constantFrom<fc.JsonValue>('0', '-1', 'abc', '9223372036854775808', ' 1', '1.5', ''),
    ),
  }),
  fc.record({
    claim: fc.constant('role'),
    value: fc.constantFrom<fc.JsonValue>('root', 'OWNER', '', null, 1, ['owner'], {
      role: 'owner',
    }),
  }),
  fc.record({
    claim: fc.constant('scope'),
    value: fc.constantFrom<fc.JsonValue>('admin', '', null, ['tenant'], 'Tenant'),
  }),
  fc.record({
    claim: fc.constant('sid'),
    value: fc.constantFrom<fc.JsonValue>('short', '', null, 42, 'A'.repeat(23), '!'.repeat(22)),
  }),
  fc.record({
    claim: fc.constant('exp'),
    value: fc.constantFrom<fc.JsonValue>(null, '9999999999', [], {}),
  }),
  fc.record({
    claim: fc.constantFrom('iss', 'aud'),
    value: fc.constantFrom<fc.JsonValue>('someone-else', '', null, 1),
  }),
);

export const garbageToken: fc.Arbitrary<GarbageToken> = fc.oneof(
  fc
    .string({ unit: 'grapheme-ascii', maxLength: 60 })
    .map((text): GarbageToken => ({ kind: 'random', text })),
  fc.constant<GarbageToken>({ kind: 'alg-none' }),
  fc.constant<GarbageToken>({ kind: 'wrong-secret' }),
  fc.constant<GarbageToken>({ kind: 'expired' }),
  fc.constant<GarbageToken>({ kind: 'expired-operator' }),
  fc.constant<GarbageToken>({ kind: 'tampered' }),
  badClaim.map((bad): GarbageToken => ({ kind: 'bad-claim', ...bad })),
  fc.constant<GarbageToken>({ kind: 'huge' }),
);

/** The token text, made from `user`'s claims (an attacker-side user, tenant A). */
export function garbageText(
  token: GarbageToken,
  user: { userId: string; tenantId: string; role: string; token: string },
  operatorId: string,
  jwt: JwtSettings,
): string {
  const claims = tenantClaims(user, jwt);
  const past = Math.floor(Date.now() / 1000) - 3_600;
  switch (token.kind) {
    case 'random':
      return token.text;
    case 'alg-none':
      return signJwt(claims, jwt.secret, { alg: 'none', typ: 'JWT' });
    case 'wrong-secret':
      return signJwt(claims, 'not-the-secret-but-long-enough-to-look-real-1234');
    case 'expired':
      return signJwt({ ...claims, iat: past - 300, exp: past }, jwt.secret);
    case 'expired-operator':
      return signJwt(
        {
          scope: 'operator',
          sub: operatorId,
          sid: 'AAAAAAAAAAAAAAAAAAAAAA',
          iat: past - 300,
          exp: past,
          iss: jwt.issuer,
          aud: jwt.audience,
        },
        jwt.secret,
      );
    case 'tampered': {
      // The real token with its payload's last character changed: the signature no longer fits.
      const [header, payload, signature] = user.token.split('.');
      const last = payload.slice(-1) === 'A' ? 'B' : 'A';
      return `${header}.${payload.slice(0, -1)}${last}.${signature}`;
    }
    case 'bad-claim': {
      const changed: Record<string, unknown> = { ...claims, [token.claim]: token.value };
      if (token.claim === 'exp' && token.value === null) delete changed.exp;
      return signJwt(changed, jwt.secret);
    }
    case 'huge':
      return `${user.token}${'A'.repeat(16_000)}`;
  }
}
