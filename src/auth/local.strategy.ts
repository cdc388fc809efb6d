import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { FastifyRequest as Request } from 'fastify';
import { Strategy } from 'passport-local';
import { AuthService, VerifiedLogin } from './auth.service';
import { clientOf } from '../rate-limit/client-address';
import { LoginDto } from './dto/login.dto';

@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly auth: AuthService) {
    super({ usernameField: 'email', passwordField: 'password', passReqToCallback: true });
  }

  /** The body was validated and normalised by LocalAuthGuard before passport saw it. */
  validate(request: Request, _email: string, _password: string): Promise<VerifiedLogin> {
    return this.auth.verifyCredentials(request.body as LoginDto, clientOf(request.ip));
  }
}
