import { createSecretKey, KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../errors/app-error';
import { isId } from '../http/id.pipe';
import { isUserRole, UserRole } from '../roles/roles';
import { Principal } from '../access/principal';

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

  /** Checks signature, expiry, issuer and audience, then the claims. */
  async verify(token: string): Promise<Principal> {
    const payload = await this.jwt
      .verifyAsync<Record<string, unknown>>(token, {
        secret: this.config.jwt.secret,
        ...this.verification,
      })
      .catch(() => {
        throw new AppError('UNAUTHENTICATED', 'A valid bearer access token is required');
      });
    return principalFromClaims(payload);
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
