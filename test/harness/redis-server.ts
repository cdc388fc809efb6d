import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Redis from 'ioredis';
import { freePort } from './free-port';

/**
 * Where the e2e suite gets its Redis (for the shared rate limits). One decision, logged:
 *   1. an explicit TEST_REDIS_URL is used as is (keys the specs write expire on their own);
 *   2. otherwise a throwaway redis-server from the local binary (REDIS_SERVER_BIN, or
 *      redis-server on the PATH: Debian's `apt-get install redis-server`);
 *   3. otherwise, with a reachable Docker engine, a redis container via testcontainers;
 *   4. otherwise none: the specs that need Redis are skipped, and counted.
 */
export interface TestRedis {
  url: string;
  /** Where it came from, for the log line. */
  source: string;
  stop: () => Promise<void>;
}

export const REDIS_IMAGE = 'redis:7-alpine';

/** The redis-server binary to start, when there is one. */
export function redisServerBinary(env: Record<string, string | undefined>): string | undefined {
  const explicit = env.REDIS_SERVER_BIN?.trim();
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  if (found) return found;
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
}

/** Resolves once Redis answers PING, or rejects after `timeoutMs`. */
export async function waitForRedis(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1_000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`Redis at ${url} did not answer: ${(error as Error).message}`);
      }
    } finally {
      await closeRedisClient(client);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A redis-server of our own: nothing persisted, bound to 127.0.0.1 on a free port. */
export interface LocalRedis extends TestRedis {
  process: ChildProcess;
  port: number;
  /** SIGSTOP / SIGCONT: a Redis that accepts connections but never answers. */
  pause: () => void;
  resume: () => void;
}

export async function startLocalRedis(
  binary: string,
  options: { password?: string; port?: number } = {},
): Promise<LocalRedis> {
  const port = options.port ?? (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    tmpdir(),
    '--loglevel',
    'warning',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = `redis://${auth}127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await Promise.race([
      waitForRedis(url),
      exited.then(() => {
        throw new Error(`redis-server exited at start: ${stderr.trim()}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    source: `local ${binary} on port ${port}`,
    process: child,
    port,
    stop,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
  };
}

async function startContainer(): Promise<TestRedis> {
  // Loaded lazily: machines without Docker never need the module's transitive imports.
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(REDIS_IMAGE)
    .withExposedPorts(6379)
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  return {
    url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
    source: `${REDIS_IMAGE} with testcontainers`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startTestRedis(
  env: Record<string, string | undefined>,
  dockerAvailable: boolean,
): Promise<TestRedis | undefined> {
  const explicit = env.TEST_REDIS_URL?.trim();
  if (explicit) {
    await waitForRedis(explicit, 5_000);
    return { url: explicit, source: 'TEST_REDIS_URL', stop: () => Promise.resolve() };
  }
  const binary = redisServerBinary(env);
  if (binary) return startLocalRedis(binary);
  if (dockerAvailable) return startContainer();
  return undefined;
}

/** Closes a client without leaving a timer behind: QUIT when connected, else just stop. */
export async function closeRedisClient(client: Redis | undefined): Promise<void> {
  if (!client || client.status === 'end') return;
  // After QUIT the server closes the connection; disconnect() would arm a 2-s timer for a
  // socket close that already happened.
  if (client.status === 'ready' && (await client.quit().catch(() => undefined)) === 'OK') return;
  client.disconnect();
}
