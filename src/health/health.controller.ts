import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { OptionalOperator, Public } from '../access/access.decorators';
import { AuthenticatedOperator } from '../access/principal';
import { Readiness, ReadinessService } from './readiness';

export type { Readiness };

/**
 * Liveness and readiness. Callers without a token are answered before routing (ReadinessService
 * answers them in the request's first hook); these handlers answer the rest and document both.
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get()
  @ApiOkResponse({ description: 'The process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready (200) while the coordinator answers: `ok` when it also reaches every Citus worker,
   * `degraded` when some worker is down — the tenants on the other workers are still served, so
   * a load balancer must keep this instance (every instance sees the same outage). 503 when the
   * database does not answer, while the instance sheds load (`overloaded`), and as soon as
   * shutdown starts, so load balancers send their traffic elsewhere. Anyone gets the status; an
   * operator token also gets the database and each worker, which says which one is down.
   */
  @Get('ready')
  @ApiOkResponse({
    description:
      '`{status: ok}`, or `{status: degraded}` while a Citus worker is down; with an operator token also `database` and `workers`',
  })
  @ApiServiceUnavailableResponse({
    description: 'Shutting down, overloaded (shedding load), or the database is down',
  })
  async ready(
    @Res({ passthrough: true }) response: FastifyReply,
    @OptionalOperator() operator?: AuthenticatedOperator,
  ): Promise<Readiness> {
    // Probes poll this: nothing cacheable, and nothing left over from an operator's call.
    response.header('Cache-Control', 'no-store');
    const { httpStatus, answer, probe } = await this.readiness.current();
    response.status(httpStatus);
    if (answer.status === 'overloaded') {
      response.header('Retry-After', String(this.readiness.retryAfterSeconds));
    }
    if (!operator || !probe) return answer;
    const { database, workers } = probe;
    return { ...answer, database, ...(workers && database === 'up' ? { workers } : {}) };
  }
}
