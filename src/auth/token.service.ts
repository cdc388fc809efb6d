import { createSecretKey, KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../errors/app-error';
import { isId } from '../http/id.pipe';
import { isUserRole, UserRole } from '../roles/roles';
import { Principal } from '../access/principal';
import { VerifiedTokens } from './verified-tokens';

/** Pinned so a token can never choose its own verification algorithm (no "none", no RS/HS swap). */
export const JWT_ALGORITHM = 'HS256';

export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Claims inside a tenant user's token. `sub` is the user id, `tid` the tenant id. */
interface TenantClaims {
  scope: 'tenant';
  sub: string;
  tid: string;
  role: UserRole;
  /** The session (refresh token family) this token was issued for. */
  sid: string;
}

interface OperatorClaims {
  scope: 'operator';
  sub: string;
  sid: string;
}

const SESSION_ID = /^[\w-]{22}$/;

/** Signature, expiry, issuer and audience are checked by then; the claims' shapes are next. */
export function principalFromClaims(payload: Record<string, unknown>): Principal {
  const { scope, sub, tid, role, sid, exp } = payload;
  // Every token ends: one without an expiry is refused even when its signature is right.
  if (typeof exp !== 'number' || typeof sid !== 'string' || !SESSION_ID.test(sid)) {
    throw new AppError('UNAUTHENTICATED', 'Access token claims are malformed');
  }
  if (scope === 'operator' && isId(sub)) {
    return { kind: 'operator', operatorId: sub, sessionId: sid };
  }
  if (scope === 'tenant' && isId(sub) && isId(tid) && isUserRole(role)) {
    return { kind: 'user', userId: sub, tenantId: tid, role, sessionId: sid };
  }
  throw new AppError('UNAUTHENTICATED', 'Access token claims are malformed');
}

/**
 * The one issuer and checker of access tokens, for tenant users and operators alike. Tokens say
 * which API they are for (`scope`); the global guard refuses a token on the other API.
 */
@Injectable()
export class TokenService {
  /** Built once: given a string, jsonwebtoken would try it as a PEM key on every verification. */
  readonly key: KeyObject;
  private readonly verified = new VerifiedTokens();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jwt: JwtService,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwt.secret));
  }

  /** What a verifier must check; passport-jwt gets the same. */
  get verification(): { algorithms: [typeof JWT_ALGORITHM]; issuer: string; audience: string } {
    return {
      algorithms: [JWT_ALGORITHM],
      issuer: this.config.jwt.issuer,
      audience: this.config.jwt.audience,
    };
  }

  signTenant(
    user: { id: string; tenantId: string; role: UserRole },
    session: string,
  ): Promise<IssuedToken> {
    const claims: TenantClaims = {
      scope: 'tenant',
      sub: user.id,
      tid: user.tenantId,
      role: user.role,
      sid: session,
    };
    return this.issue(claims);
  }

  signOperator(operator: { id: string }, session: string): Promise<IssuedToken> {
    const claims: OperatorClaims = { scope: 'operator', sub: operator.id, sid: session };
    return this.issue(claims);
  }

  /**
   * Who a token speaks for, or undefined when it is not a valid access token: signature, expiry,
   * issuer, audience, then the claims. A token verified before and not yet expired is answered
   * from memory (clients send the same token on every request).
   */
  principalOf(token: string): Principal | undefined {
    const known = this.verified.get(token);
    if (known) return known;
    try {
      const payload = this.jwt.verify<Record<string, unknown>>(token, {
        // jsonwebtoken uses a KeyObject as is; the typings only name string | Buffer.
        secret: this.key as unknown as Buffer,
        ...this.verification,
      });
      const principal = principalFromClaims(payload);
      this.remember(token, principal, payload.exp);
      return principal;
    } catch {
      return undefined;
    }
  }

  /** Keeps a verified token's principal until the token expires. */
  remember(token: string, principal: Principal, exp: unknown): void {
    if (typeof exp === 'number') this.verified.remember(token, principal, exp * 1000);
  }

  /** A token verified before and not yet expired. */
  cached(token: string): Principal | undefined {
    return this.verified.get(token);
  }

  private async issue(claims: TenantClaims | OperatorClaims): Promise<IssuedToken> {
    return {
      accessToken: await this.jwt.signAsync(claims),
      tokenType: 'Bearer',
      expiresIn: this.config.jwt.ttlSeconds,
    };
  }
}

/** Signing settings for JwtModule; verification goes through TokenService.verification. */
export function jwtModuleOptions(config: AppConfig) {
  return {
    secret: config.jwt.secret,
    signOptions: {
      algorithm: JWT_ALGORITHM,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      expiresIn: config.jwt.ttlSeconds,
    },
  } as const;
}
