import { Global, Module } from '@nestjs/common';
import { AdminDatabaseModule } from '../database/admin-database';
import { MetricsServer } from './metrics-server';
import { MetricsService } from './metrics.service';

/**
 * Prometheus metrics: the series (MetricsService, which the parts that count inject) and their
 * server on a port of its own (MetricsServer). Global, like logging: anything may count.
 */
@Global()
@Module({
  imports: [AdminDatabaseModule],
  providers: [MetricsService, MetricsServer],
  exports: [MetricsService],
})
export class MetricsModule {}
