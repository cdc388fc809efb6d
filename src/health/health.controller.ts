import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply as Response } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators';
import { citusInstalled } from '../database/citus';
import { ShutdownState } from './shutdown-state';

const READY_TIMEOUT_MS = 2_000;

export interface WorkerHealth {
  host: string;
  port: number;
  reachable: boolean;
}

export interface Readiness {
  status: 'ok' | 'unavailable' | 'shutting_down';
  database: 'up' | 'down';
  workers?: WorkerHealth[];
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS).unref(),
    ),
  ]);
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  private citus?: boolean;

  constructor(
    private readonly dataSource: DataSource,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get()
  @ApiOkResponse({ description: 'The process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Ready when the database answers and, on Citus, the coordinator reaches every worker. Turns
   * 503 as soon as shutdown starts so load balancers stop sending traffic first.
   */
  @Get('ready')
  @ApiOkResponse({ description: 'The database (and every Citus worker) answers' })
  @ApiServiceUnavailableResponse({
    description: 'Shutting down, or the database or a worker is down',
  })
  async ready(@Res({ passthrough: true }) response: Response): Promise<Readiness> {
    if (this.shutdown.shuttingDown) {
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'shutting_down', database: 'up' };
    }
    try {
      await withTimeout(this.dataSource.query('SELECT 1'));
    } catch {
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', database: 'down' };
    }
    const workers = await this.workers();
    if (workers?.some((worker) => !worker.reachable)) {
      response.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', database: 'up', workers };
    }
    return workers ? { status: 'ok', database: 'up', workers } : { status: 'ok', database: 'up' };
  }

  private async workers(): Promise<WorkerHealth[] | undefined> {
    this.citus ??= await citusInstalled(this.dataSource);
    if (!this.citus) return undefined;
    try {
      const rows: Array<{ nodename: string; nodeport: number; success: boolean }> =
        await withTimeout(
          this.dataSource.query(
            `SELECT nodename, nodeport, success FROM run_command_on_workers('SELECT 1')`,
          ),
        );
      return rows.map((row) => ({
        host: row.nodename,
        port: Number(row.nodeport),
        reachable: row.success === true,
      }));
    } catch {
      return [{ host: 'unknown', port: 0, reachable: false }];
    }
  }
}
