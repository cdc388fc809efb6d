import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPgBinDir } from '../tools/db/local-cluster';
import { percentile, Sample } from './load';

export interface PgbenchOptions {
  clients: number;
  seconds: number;
  /** -M prepared: parse and plan once per connection, like a tuned driver would. */
  prepared?: boolean;
  threads?: number;
  /** Text variables (-D name=value), sent as statement parameters like the service's. */
  defines?: Record<string, string>;
}

/**
 * Runs one pgbench script against `url` and reads throughput and latency percentiles from its
 * per-transaction log. Any failed transaction makes the whole run fail loudly.
 */
export function pgbench(url: string, script: string, options: PgbenchOptions): Sample {
  const dir = mkdtempSync(join(tmpdir(), 'pgbench-'));
  try {
    const file = join(dir, 'script.sql');
    writeFileSync(file, script);
    const parsed = new URL(url);
    const args = [
      '-n',
      '-h',
      parsed.hostname,
      '-p',
      parsed.port || '5432',
      '-U',
      decodeURIComponent(parsed.username || 'postgres'),
      '-c',
      String(options.clients),
      '-j',
      String(options.threads ?? 2),
      '-T',
      String(options.seconds),
      '-f',
      file,
      '-l',
      `--log-prefix=${join(dir, 'log')}`,
      ...(options.prepared === false ? [] : ['-M', 'prepared']),
      ...Object.entries(options.defines ?? {}).flatMap(([name, value]) => [
        '-D',
        `${name}=${value}`,
      ]),
      decodeURIComponent(parsed.pathname.slice(1)),
    ];
    const result = spawnSync(join(findPgBinDir(), 'pgbench'), args, {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: decodeURIComponent(parsed.password) },
    });
    if (result.status !== 0) {
      throw new Error(`pgbench failed (exit ${result.status}):\n${result.stderr}${result.stdout}`);
    }
    const latencies: number[] = [];
    for (const name of readdirSync(dir).filter((entry) => entry.startsWith('log'))) {
      for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
        const fields = line.split(' ');
        if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000);
      }
    }
    latencies.sort((a, b) => a - b);
    const failed = Number(/number of failed transactions: (\d+)/.exec(result.stdout)?.[1] ?? 0);
    return {
      rps: latencies.length / options.seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      non2xx: failed,
      total: latencies.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
