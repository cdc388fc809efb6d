import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CitusWorkersIndicator } from './citus-workers.indicator';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness';
import { OverloadMonitor } from '../http/overload';
import { ShutdownState } from '../http/shutdown-state';

@Global()
@Module({
  // Failed checks are answered (503), not logged as errors.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [ShutdownState, OverloadMonitor, CitusWorkersIndicator, ReadinessService],
  exports: [ShutdownState, OverloadMonitor],
})
export class HealthModule {}
