import { request } from 'node:http';
import { existsSync } from 'node:fs';

/**
 * Where the e2e suite gets its database. One decision, made here and logged:
 *   1. an explicit TEST_DATABASE_URL is used as is (it must be safe to migrate and fill);
 *   2. otherwise, with a reachable Docker engine, a citusdata/citus container via testcontainers;
 *   3. otherwise throwaway nodes from the local PostgreSQL binaries (Citus when installed).
 * TEST_DB=url|testcontainers|local forces a path.
 */
export type DatabaseChoice =
  | { kind: 'url'; url: string; reason: string }
  | { kind: 'testcontainers'; image: string; reason: string }
  | { kind: 'local'; reason: string };

/**
 * The image docker-compose.yml runs and testcontainers starts (a test keeps them the same): the
 * newest Citus image, 13.2.0, on the PostgreSQL major the suite runs on here (15). The suite's local
 * clusters run Citus 13.2.2, built from source (../shared/citus); no 13.2.2 image was published.
 */
export const DEFAULT_CITUS_IMAGE = 'citusdata/citus:13.2.0-pg15';

export function chooseTestDatabase(
  env: Record<string, string | undefined>,
  dockerAvailable: boolean,
): DatabaseChoice {
  const forced = env.TEST_DB?.trim().toLowerCase();
  const url = env.TEST_DATABASE_URL?.trim();
  const image = env.TEST_CITUS_IMAGE?.trim() || DEFAULT_CITUS_IMAGE;

  if (forced && !['url', 'testcontainers', 'local'].includes(forced)) {
    throw new Error(`TEST_DB must be url, testcontainers or local, got "${env.TEST_DB}"`);
  }
  if (forced === 'url' || (!forced && url)) {
    if (!url) throw new Error('TEST_DB=url needs TEST_DATABASE_URL');
    return { kind: 'url', url, reason: 'TEST_DATABASE_URL is set' };
  }
  if (forced === 'testcontainers') {
    if (!dockerAvailable) throw new Error('TEST_DB=testcontainers but no Docker engine answers');
    return { kind: 'testcontainers', image, reason: 'TEST_DB=testcontainers' };
  }
  if (forced === 'local') return { kind: 'local', reason: 'TEST_DB=local' };
  if (dockerAvailable) {
    return { kind: 'testcontainers', image, reason: 'a Docker engine answers' };
  }
  return { kind: 'local', reason: 'no TEST_DATABASE_URL and no Docker engine' };
}

/** Asks the Docker engine for /_ping; a client binary alone (as on CI here) is not enough. */
export function dockerEngineAnswers(
  env: Record<string, string | undefined>,
  timeoutMs = 1500,
): Promise<boolean> {
  const host = env.DOCKER_HOST;
  let target: { socketPath: string } | { host: string; port: number };
  if (host?.startsWith('tcp://')) {
    const parsed = new URL(host.replace('tcp://', 'http://'));
    target = { host: parsed.hostname, port: Number(parsed.port || 2375) };
  } else {
    const socketPath = host?.startsWith('unix://')
      ? host.slice('unix://'.length)
      : '/var/run/docker.sock';
    if (!existsSync(socketPath)) return Promise.resolve(false);
    target = { socketPath };
  }
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}
