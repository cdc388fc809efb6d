import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { FastifyRequest as Request } from 'fastify';
import { validateBody } from '../http/validation';
import { AppError, toError } from '../errors/app-error';
import { LoginDto } from './dto/login.dto';

/**
 * Guards run before pipes, so the login body is validated here: a malformed body gets a 400 that
 * names the field instead of passport's generic "missing credentials".
 */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  override async canActivate(execution: ExecutionContext): Promise<boolean> {
    const request = execution.switchToHttp().getRequest<Request>();
    request.body = validateBody(LoginDto, request.body);
    return (await super.canActivate(execution)) as boolean;
  }

  override handleRequest<T>(error: unknown, user: T | false): T {
    if (error) throw toError(error);
    if (!user) throw new AppError('INVALID_CREDENTIALS', 'Invalid email or password');
    return user;
  }
}
