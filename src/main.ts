import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { APP_CONFIG } from './config/config.module';
import { ShutdownState } from './health/shutdown-state';
import { configureApp } from './http/configure-app';

async function bootstrap(): Promise<void> {
  // Validate before Nest starts so a bad secret fails fast with a message naming the variable.
  loadConfig();
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    bufferLogs: true,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  configureApp(app);
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen(config.port);
  logger.log(`listening on :${config.port} (docs at /docs)`, 'Bootstrap');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Readiness fails first, so a load balancer stops routing here; then the listener closes,
    // in-flight requests finish, and the database pools close last.
    app.get(ShutdownState).begin();
    logger.log(`${signal}: readiness off, closing in ${config.shutdown.delayMs} ms`, 'Shutdown');
    setTimeout(() => {
      logger.error(`still busy after ${config.shutdown.timeoutMs} ms: exiting`, 'Shutdown');
      process.exit(1);
    }, config.shutdown.delayMs + config.shutdown.timeoutMs).unref();
    await new Promise((resolve) => setTimeout(resolve, config.shutdown.delayMs));
    await app.close();
    logger.log('closed cleanly', 'Shutdown');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
