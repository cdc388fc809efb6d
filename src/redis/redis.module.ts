import { Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig, DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** How long the boot waits for Redis before it starts without it. */
export const REDIS_CONNECT_TIMEOUT_MS = 3_000;

/** The URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'REDIS_URL';
  }
}

/** Redis refused the credentials: a configuration error, not an outage. */
export function isAuthError(error: Error | undefined): boolean {
  return /\b(WRONGPASS|NOAUTH)\b|invalid password|AUTH.*(without|no) password/i.test(
    error?.message ?? '',
  );
}

/**
 * Connects to REDIS_URL. Commands never queue while the connection is down: they fail at once
 * (or after REDIS_COMMAND_TIMEOUT_MS when Redis hangs), so callers fall back instead of holding
 * requests; the client keeps reconnecting in the background.
 *
 * At start, Redis refusing the password stops the boot with a message naming REDIS_URL (that is
 * a mistake to fix, not an outage to ride out). A Redis that cannot be reached does not: the
 * service starts, logs a warning, counts its rate limits in memory and uses Redis once it
 * answers, as it would during an outage later on.
 */
export async function connectRedis(
  url: string,
  {
    commandTimeoutMs = DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    logger = new Logger('Redis'),
  }: { commandTimeoutMs?: number; logger?: Logger } = {},
): Promise<Redis> {
  const where = redactRedisUrl(url);
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    // disconnect() waits this long for a socket to close (or one that already has, when Redis
    // was unreachable): not the default 2 s that would keep a stopping process alive.
    disconnectTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    connectionName: 'notes-service',
  });
  let lastError: Error | undefined;
  let up = false;
  // Without a listener ioredis prints every failed reconnection attempt to the console.
  client.on('error', (error: Error) => {
    lastError = error;
    if (up) {
      up = false;
      logger.warn(`connection to ${where} lost: ${error.message}; reconnecting`);
    }
  });
  client.on('close', () => {
    if (up && client.status !== 'end') {
      up = false;
      logger.warn(`connection to ${where} closed; reconnecting`);
    }
  });
  client.on('ready', () => {
    if (!up && lastError) logger.log(`connection to ${where} is back`);
    up = true;
  });
  try {
    await client.connect();
  } catch (error) {
    const reason = lastError ?? (error instanceof Error ? error : new Error(String(error)));
    if (isAuthError(reason)) {
      client.disconnect();
      throw new Error(`REDIS_URL: Redis at ${where} refused the credentials: ${reason.message}`);
    }
    logger.warn(
      `cannot reach ${where} (${reason.message}): rate limits count in this process only ` +
        'until it answers; retrying in the background',
    );
  }
  return client;
}

/**
 * The service's one Redis connection, when REDIS_URL is set, opened at boot and closed once the
 * HTTP server has closed. Without REDIS_URL `client` is undefined and nothing connects.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  constructor(readonly client?: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    const client = this.client;
    if (!client || client.status === 'end') return;
    // QUIT lets Redis finish what was sent; when it is unreachable, just stop reconnecting.
    if (client.status === 'ready') await client.quit().catch(() => undefined);
    client.disconnect();
  }
}

@Module({
  providers: [
    {
      provide: RedisConnection,
      inject: [APP_CONFIG],
      useFactory: async ({ redis }: AppConfig) =>
        new RedisConnection(
          redis
            ? await connectRedis(redis.url, { commandTimeoutMs: redis.commandTimeoutMs })
            : undefined,
        ),
    },
  ],
  exports: [RedisConnection],
})
export class RedisModule {}
