import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Principal } from '../access/principal';
import { AppError } from '../errors/app-error';
import { OperatorsService } from './operators.service';

/**
 * Runs after the global token guard: an operator token works only while its operator exists, so
 * deleting an operator ends their access at once (admin requests are few; this is one lookup).
 */
@Injectable()
export class OperatorStillExistsGuard implements CanActivate {
  constructor(private readonly operators: OperatorsService) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const { user } = execution.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
    if (user?.kind !== 'operator') return true;
    if (!(await this.operators.find(user.operatorId))) {
      throw new AppError('UNAUTHENTICATED', 'The operator of this token no longer exists');
    }
    return true;
  }
}
