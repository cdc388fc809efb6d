import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { CitusDetector } from '../database/citus';

export interface WorkerHealth {
  host: string;
  port: number;
  reachable: boolean;
}

/** On Citus: up when the coordinator reaches every worker. Up (and silent) on plain PostgreSQL. */
@Injectable()
export class CitusWorkersIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly citus: CitusDetector,
    private readonly dataSource: DataSource,
  ) {}

  async check(key: string, timeoutMs: number): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    if (!(await this.citus.installed())) return indicator.up({ citus: false });
    const probe = this.dataSource.query<
      Array<{ nodename: string; nodeport: number; success: boolean }>
    >(`SELECT nodename, nodeport, success FROM run_command_on_workers('SELECT 1')`);
    const rows = await Promise.race([probe, sleep(timeoutMs, undefined, { ref: false })]).catch(
      () => undefined,
    );
    if (!rows) return indicator.down({ workers: [{ host: 'unknown', port: 0, reachable: false }] });
    const workers: WorkerHealth[] = rows.map((row) => ({
      host: row.nodename,
      port: Number(row.nodeport),
      reachable: row.success === true,
    }));
    const healthy = workers.every((worker) => worker.reachable);
    return healthy ? indicator.up({ workers }) : indicator.down({ workers });
  }
}
