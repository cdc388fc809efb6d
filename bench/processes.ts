import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../test/harness/test-database';

export const ROOT = resolve(__dirname, '..');

export interface Server {
  name: string;
  url: string;
  /** The service's metrics (`GET <metricsUrl>`), unless BENCH_METRICS=0 turned them off. */
  metricsUrl?: string;
  /** SIGTERM, then wait for the exit (a --cpu-prof profile is written on exit). */
  stop: () => Promise<void>;
}

/**
 * Starts a server process with its output in `logFile` and waits until `readyPath` answers 200.
 * `entry` is a compiled .js file or a .ts file (run through ts-node's transpiler).
 * Prometheus metrics are on, as in production, on a free port of their own; BENCH_METRICS=0 turns
 * them off (the bare server ignores the setting).
 */
export async function startServer(options: {
  name: string;
  entry: string;
  env: Record<string, string>;
  logFile: string;
  nodeArgs?: string[];
  readyPath?: string;
}): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const metricsPort = process.env.BENCH_METRICS === '0' ? undefined : await freePort();
  const metrics = metricsPort
    ? { METRICS_ENABLED: 'true', METRICS_HOST: '127.0.0.1', METRICS_PORT: String(metricsPort) }
    : { METRICS_ENABLED: 'false' };
  const loader = options.entry.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [];
  const out = openSync(options.logFile, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), ...loader, options.entry],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...metrics, ...options.env, PORT: String(port) },
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const readyPath = options.readyPath ?? '/health';
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) {
      throw new Error(`${options.name} exited with ${child.exitCode}; see ${options.logFile}`);
    }
    const status = await fetch(`${url}${readyPath}`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) break;
    if (attempt > 600) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not become ready; see ${options.logFile}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  return {
    name: options.name,
    url,
    metricsUrl: metricsPort ? `http://127.0.0.1:${metricsPort}/metrics` : undefined,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The service as production runs it (dist/), or from source for the suite's smoke run. */
export function serviceEntry(fromSource: boolean): string {
  if (fromSource) return 'src/main.ts';
  const built = resolve(ROOT, 'dist', 'src', 'main.js');
  if (!existsSync(built)) throw new Error('dist/src/main.js is missing: run `npm run build` first');
  return built;
}
