import cluster from 'node:cluster';
import { Server } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { shareWithPrimary } from './cluster-workers';
import { close, createMetricsServer, listen } from './metrics-endpoint';
import { MetricsService } from './metrics.service';

/**
 * Serves this process's series on METRICS_HOST:METRICS_PORT while the app runs (never on the
 * API's port). Under node:cluster (WEB_CONCURRENCY > 1) a worker does not listen: the primary
 * serves the port and asks every worker for its series (cluster-workers.ts).
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.metrics.enabled) return;
    const { registry } = this.metrics;
    if (cluster.isWorker) {
      shareWithPrimary([registry]);
      return;
    }
    const server = createMetricsServer(async () => ({
      contentType: registry.contentType,
      body: await registry.metrics(),
    }));
    const { host, port } = this.config.metrics;
    await listen(server, host, port);
    this.server = server;
    this.logger.log(`metrics on http://${host}:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (cluster.isWorker) shareWithPrimary([]);
    const server = this.server;
    this.server = undefined;
    if (server) await close(server);
  }
}
