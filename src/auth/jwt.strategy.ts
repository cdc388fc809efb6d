import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG } from '../config/config.module';
import { AppConfig } from '../config/app-config';
import { AppError } from '../errors/app-error';
import { isUserRole } from '../users/user-role';
import { AuthenticatedUser } from './authenticated-user';
import { JWT_ALGORITHM } from './auth.constants';

const ID_PATTERN = /^[1-9]\d{0,18}$/;

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
  validate(payload: Record<string, unknown>): AuthenticatedUser {
    const { sub, tid, role } = payload;
    if (
      typeof sub !== 'string' ||
      typeof tid !== 'string' ||
      !ID_PATTERN.test(sub) ||
      !ID_PATTERN.test(tid) ||
      !isUserRole(role)
    ) {
      throw new AppError('UNAUTHENTICATED', 'Access token claims are malformed');
    }
    return { userId: sub, tenantId: tid, role };
  }
}
