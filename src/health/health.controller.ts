import {
  Controller,
  Get,
  HttpStatus,
  Inject,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { FastifyReply } from 'fastify';
import { OptionalOperator, Public } from '../access/access.decorators';
import { AuthenticatedOperator } from '../access/principal';
import { CitusWorkersIndicator, WorkerHealth } from './citus-workers.indicator';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { OverloadMonitor } from '../http/overload';
import { ShutdownState } from '../http/shutdown-state';

const READY_TIMEOUT_MS = 2_000;

export interface Readiness {
  status: 'ok' | 'degraded' | 'unavailable' | 'overloaded' | 'shutting_down';
  /** The parts, for operators only: worker hosts and ports are nobody else's business. */
  database?: 'up' | 'down';
  workers?: WorkerHealth[];
}

interface Probe {
  status: 'ok' | 'degraded' | 'unavailable';
  database: 'up' | 'down';
  workers?: WorkerHealth[];
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  /** The last probe, shared by every caller until it is READY_CACHE_MS old (also while running). */
  private probe?: { at: number; result: Promise<Probe> };

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly workers: CitusWorkersIndicator,
    private readonly shutdown: ShutdownState,
    private readonly overload: OverloadMonitor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
   *
   * Anyone may call this, so it must stay cheap: the database and worker probe runs at most once
   * per READY_CACHE_MS (1 s) for all callers together, one at a time, and every caller in that
   * interval gets its answer.
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
    if (this.shutdown.shuttingDown) {
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'shutting_down' };
    }
    const probe = await this.latestProbe();
    const status =
      this.overload.reason() && probe.status !== 'unavailable' ? 'overloaded' : probe.status;
    if (status === 'unavailable' || status === 'overloaded') {
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      if (status === 'overloaded') {
        response.header('Retry-After', String(this.overload.retryAfterSeconds));
      }
    }
    if (!operator) return { status };
    const { database, workers } = probe;
    return { status, database, ...(workers && database === 'up' ? { workers } : {}) };
  }

  private latestProbe(): Promise<Probe> {
    const now = Date.now();
    if (!this.probe || now - this.probe.at >= this.config.readyCacheMs) {
      this.probe = { at: now, result: this.runProbe() };
    }
    return this.probe.result;
  }

  private async runProbe(): Promise<Probe> {
    const result = await this.health
      .check([
        () => this.database.pingCheck('database', { timeout: READY_TIMEOUT_MS }),
        () => this.workers.check('workers', READY_TIMEOUT_MS),
      ])
      .catch((error: unknown) => {
        // Terminus reports a failed check as a 503 carrying the same result.
        if (error instanceof ServiceUnavailableException) {
          return error.getResponse() as HealthCheckResult;
        }
        throw error;
      });
    const database = result.details.database?.status === 'up' ? 'up' : 'down';
    const workers = result.details.workers?.workers as WorkerHealth[] | undefined;
    const status = database === 'down' ? 'unavailable' : result.status === 'ok' ? 'ok' : 'degraded';
    return { status, database, workers };
  }
}
