import {
  Global,
  Inject,
  Injectable,
  LoggerService,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** Where log lines go; tests replace it to read what the service logs. Default: stdout. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');
/** The service's one pino logger: request lines and Nest's own messages. */
export const LOGGER = Symbol('LOGGER');

/** How long a quiet service may hold a log line back. */
const FLUSH_EVERY_MS = 200;

/**
 * JSON lines on stdout, written in chunks of up to 8 kB off the request path, and at least every
 * 200 ms (and on shutdown, and on exit); readable single lines with LOG_PRETTY; or a stream a
 * test hands in.
 */
export function createLogger(config: AppConfig, destination?: DestinationStream): Logger {
  const options = { level: config.log.level };
  if (destination) return pino(options, destination);
  if (config.log.pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { singleLine: true, colorize: true } },
    });
  }
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  setInterval(() => {
    try {
      stdout.flush();
    } catch {
      // Closed (the process is exiting): nothing is left to write.
    }
  }, FLUSH_EVERY_MS).unref();
  return pino(options, stdout);
}

/** Nest's logger interface over pino, so framework messages are JSON lines like the rest. */
@Injectable()
export class AppLogger implements LoggerService, OnApplicationShutdown {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }

  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack?, context?): the last string is the context.
    const context = typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const stack = typeof rest[0] === 'string' ? rest[0] : undefined;
    this.logger.error({ context, stack }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }

  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, String(message));
  }

  onApplicationShutdown(): Promise<void> {
    return this.flush();
  }

  /**
   * Writes out what the asynchronous destination still buffers and waits for the write in
   * flight, so nothing is lost or reordered when the process exits right after.
   */
  flush(): Promise<void> {
    return new Promise((resolve) => this.logger.flush(() => resolve()));
  }
}

@Global()
@Module({
  providers: [
    { provide: LOG_DESTINATION, useValue: undefined },
    {
      provide: LOGGER,
      inject: [APP_CONFIG, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination?: DestinationStream) =>
        createLogger(config, destination),
    },
    AppLogger,
  ],
  exports: [LOGGER, AppLogger],
})
export class LoggingModule {}
