import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { isId } from '../http/id.pipe';
import { isUserRole } from '../users/user-role';
import { Principal } from './authenticated-user';
import { JWT_ALGORITHM } from './auth.constants';
import { VerifiedTokens } from './verified-tokens';

const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();
/** passport's typings name Express' request; passport only reads its headers. */
type PassportRequest = Parameters<Strategy['authenticate']>[0];

/** Signature, expiry, issuer and audience are checked by then; the claims' shapes are next. */
export function principalFromClaims(payload: Record<string, unknown>): Principal {
  const { scope, sub, tid, role } = payload;
  if (scope === 'operator' && isId(sub)) {
    return { kind: 'operator', operatorId: sub };
  }
  if (scope === 'tenant' && isId(sub) && isId(tid) && isUserRole(role)) {
    return { kind: 'user', userId: sub, tenantId: tid, role };
  }
  throw new AppError('UNAUTHENTICATED', 'Access token claims are malformed');
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly verified = new VerifiedTokens();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      jwtFromRequest: bearerToken,
      // Built once: given a string, jsonwebtoken first tries (and fails) to read it as a PEM public
      // key, then builds a secret key, on every request. It uses a KeyObject as is; the typings
      // only name string | Buffer.
      secretOrKey: createSecretKey(Buffer.from(config.jwt.secret)) as unknown as Buffer,
      algorithms: [JWT_ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  /** A token verified before and not yet expired is accepted as it was then. */
  override authenticate(request: PassportRequest, options?: object): void {
    const token = bearerToken(request);
    const principal = token ? this.verified.get(token) : undefined;
    if (principal) {
      this.success(principal);
      return;
    }
    super.authenticate(request, options);
  }

  validate(request: PassportRequest, payload: Record<string, unknown>): Principal {
    const principal = principalFromClaims(payload);
    const token = bearerToken(request);
    if (token && typeof payload.exp === 'number') {
      this.verified.remember(token, principal, payload.exp * 1000);
    }
    return principal;
  }
}
