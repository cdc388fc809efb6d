import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/**
 * Graceful shutdown through Nest's hooks (main.ts enables them for SIGTERM and SIGINT):
 * readiness fails first, so a load balancer stops routing here; after SHUTDOWN_DELAY_MS Nest
 * closes the listener (in-flight requests finish), then the database pools close.
 */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private stopping = false;
  private watchdog?: NodeJS.Timeout;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  begin(): void {
    this.stopping = true;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.begin();
    const { delayMs, timeoutMs } = this.config.shutdown;
    this.logger.log(`${signal ?? 'close'}: readiness off, closing in ${delayMs} ms`);
    this.watchdog = setTimeout(() => {
      this.logger.error(`still busy after ${timeoutMs} ms: exiting`);
      process.exit(1);
    }, delayMs + timeoutMs).unref();
    await sleep(delayMs);
  }

  onApplicationShutdown(): void {
    clearTimeout(this.watchdog);
    this.logger.log('closed cleanly');
  }
}
