import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { LOAD_GUARDS_OFF } from './load-guards';
import { freePort } from './test-database';

const ROOT = resolve(__dirname, '..', '..');

/**
 * Processes started by this test file that were never handed to it (not ready yet): when jest
 * gives up on a beforeAll that waits for one, the file's own cleanup never learns of it, so
 * `stopUnclaimedServices` (an afterAll of every e2e file, test/harness/setup-e2e.ts) kills it.
 */
const unclaimed = new Set<ChildProcess>();

export function stopUnclaimedServices(): number {
  const count = unclaimed.size;
  for (const child of unclaimed) child.kill('SIGKILL');
  unclaimed.clear();
  return count;
}

export interface ServiceProcess {
  child: ChildProcess;
  base: string;
  /** Everything the process has printed so far. */
  output: () => string;
}

/**
 * The real entry point (src/main.ts) as its own process on a free port, against the e2e database,
 * with production-like JSON logs on stdout. Resolves once `ready(output)` holds.
 */
export async function startServiceProcess(
  env: Record<string, string>,
  ready: (service: ServiceProcess) => Promise<boolean>,
): Promise<ServiceProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: process.env.E2E_APP_DATABASE_URL,
      ADMIN_DATABASE_URL: process.env.E2E_DATABASE_URL,
      BCRYPT_COST: '4',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      // Processes run side by side and would contend for one metrics port.
      METRICS_ENABLED: 'false',
      ...LOAD_GUARDS_OFF,
      ...env,
    },
  });
  unclaimed.add(child);
  child.once('exit', () => unclaimed.delete(child));
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const service = { child, base: `http://127.0.0.1:${port}`, output: () => output };
  // Stops waiting once the child is gone (exited, or killed by stopUnclaimedServices).
  for (let i = 0; i < 240 && child.exitCode === null && child.signalCode === null; i += 1) {
    if (await ready(service)) {
      unclaimed.delete(child);
      return service;
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  unclaimed.delete(child);
  child.kill('SIGKILL');
  throw new Error(`service did not become ready:\n${output}`);
}

/** Ready when /health/ready answers 200. */
export const answersReady = async ({ base }: ServiceProcess): Promise<boolean> =>
  (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200;
