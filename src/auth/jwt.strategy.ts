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

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwt.secret,
      algorithms: [JWT_ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
    });
  }

  /** Signature, expiry, issuer and audience are already checked; the claims' shapes are next. */
  validate(payload: Record<string, unknown>): Principal {
    const { scope, sub, tid, role } = payload;
    if (scope === 'operator' && isId(sub)) {
      return { kind: 'operator', operatorId: sub };
    }
    if (scope === 'tenant' && isId(sub) && isId(tid) && isUserRole(role)) {
      return { kind: 'user', userId: sub, tenantId: tid, role };
    }
    throw new AppError('UNAUTHENTICATED', 'Access token claims are malformed');
  }
}
