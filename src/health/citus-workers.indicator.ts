import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { CitusDetector, WorkerReach } from '../database/citus';

export type WorkerHealth = WorkerReach;

/** On Citus: up when the coordinator reaches every worker. Up (and silent) on plain PostgreSQL. */
@Injectable()
export class CitusWorkersIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly citus: CitusDetector,
  ) {}

  async check(key: string, timeoutMs: number): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    if (!(await this.citus.installed())) return indicator.up({ citus: false });
    const workers = await this.citus.workers(timeoutMs);
    if (!workers) {
      return indicator.down({ workers: [{ host: 'unknown', port: 0, reachable: false }] });
    }
    const healthy = workers.every((worker) => worker.reachable);
    return healthy ? indicator.up({ workers }) : indicator.down({ workers });
  }
}
