import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { Principal } from '../access/principal';
import { principalFromClaims, TokenService } from './token.service';

const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();
/** passport's typings name Express' request; passport only reads its headers. */
type PassportRequest = Parameters<Strategy['authenticate']>[0];

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(private readonly tokens: TokenService) {
    super({
      jwtFromRequest: bearerToken,
      // jsonwebtoken uses a KeyObject as is; the typings only name string | Buffer.
      secretOrKey: tokens.key as unknown as Buffer,
      ...tokens.verification,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  /** A token verified before and not yet expired is accepted as it was then. */
  override authenticate(request: PassportRequest, options?: object): void {
    const token = bearerToken(request);
    const principal = token ? this.tokens.cached(token) : undefined;
    if (principal) {
      this.success(principal);
      return;
    }
    super.authenticate(request, options);
  }

  validate(request: PassportRequest, payload: Record<string, unknown>): Principal {
    const principal = principalFromClaims(payload);
    const token = bearerToken(request);
    if (token) this.tokens.remember(token, principal, payload.exp);
    return principal;
  }
}
