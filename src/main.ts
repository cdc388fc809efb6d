import 'reflect-metadata';
import cluster, { Worker } from 'node:cluster';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { AppConfig, ConfigError, loadConfig } from './config/app-config';
import { configureApp } from './http/configure-app';
import { createHttpAdapter } from './http/http-adapter';
import { AppLogger } from './logging/logging.module';
import { answerPrimaryScrapes, serveClusterMetrics } from './metrics/cluster-workers';

async function serve(config: AppConfig): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    createHttpAdapter(config),
    { bodyParser: false, bufferLogs: true },
  );
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  configureApp(app);
  // SIGTERM / SIGINT run the lifecycle hooks (ShutdownState turns readiness off and waits, the
  // listener closes, the pools close), then exit 0; process.exit lets pino flush on 'exit'.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(config.port, config.host);
  logger.log(`listening on ${config.host}:${config.port} (docs at /docs)`, 'Bootstrap');
}

/** A worker that dies this soon after its start failed to boot: restarting it would loop. */
const BOOT_GRACE_MS = 15_000;

/**
 * WEB_CONCURRENCY > 1: this process only supervises. It forks the HTTP workers (they share the
 * port through node:cluster), replaces a worker that crashes after booting, serves the workers'
 * metrics on the metrics port, and on SIGTERM or SIGINT passes the signal on and exits once every
 * worker has shut down gracefully.
 */
function supervise(config: AppConfig): void {
  const say = (message: string) =>
    process.stdout.write(
      `${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, context: 'Cluster', msg: message })}\n`,
    );
  const started = new Map<Worker, number>();
  let stopping = false;
  let failed = false;
  const fork = () => started.set(cluster.fork(), Date.now());

  cluster.on('exit', (worker, code, signal) => {
    const bornAt = started.get(worker) ?? 0;
    started.delete(worker);
    if (code !== 0) failed = true;
    if (stopping) {
      if (started.size === 0) process.exit(failed ? 1 : 0);
      return;
    }
    say(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`})`);
    if (Date.now() - bornAt < BOOT_GRACE_MS) {
      say('a worker failed while starting: stopping every worker');
      stopAll();
      return;
    }
    fork();
  });
  const stopAll = () => {
    stopping = true;
    if (started.size === 0) process.exit(1);
    for (const worker of started.keys()) worker.process.kill('SIGTERM');
  };
  process.once('SIGTERM', stopAll);
  process.once('SIGINT', stopAll);
  // The metrics port is this process's: the workers answer its scrapes (metrics/cluster-workers.ts).
  serveClusterMetrics(config.metrics).catch((error: unknown) => {
    say(`${error instanceof Error ? error.message : String(error)}: stopping every worker`);
    failed = true;
    stopAll();
  });
  say(`starting ${config.webConcurrency} HTTP workers`);
  for (let i = 0; i < config.webConcurrency; i += 1) fork();
}

function main(): void {
  // Validate before Nest starts so a bad secret fails fast with a message naming the variable.
  const config = loadConfig();
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    supervise(config);
    return;
  }
  if (cluster.isWorker) answerPrimaryScrapes(config.metrics);
  serve(config).catch(fail);
}

function fail(error: unknown): never {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

try {
  main();
} catch (error) {
  fail(error);
}
