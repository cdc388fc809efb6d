/**
 * Issue 11 through the project's own test: runs test/cluster-operations.e2e-spec.ts (tenant
 * isolation + move and a background rebalance under live writes) again and again, each time on
 * a fresh throwaway coordinator + 2 workers with the e2e harness's settings (tools/db/local-cluster.ts
 * `fast`), changing one factor on every node before the suite starts. A JSON line per run records
 * which test passed and how many acknowledged notes the failing one missed.
 *
 *   npx ts-node --transpile-only tools/citus-move-e2e.ts --runs=6 --mode=force_logical \
 *     [--synchronous-commit=on|off] [--wal-writer-delay=200ms] [--catchup-target=write|insert] \
 *     [--out=.db/move-e2e.jsonl]
 *
 * The harness used to run with synchronous_commit off, which is what made this test lose writes in
 * logical modes; --synchronous-commit=off brings that back.
 *
 * --catchup-target=insert is the experiment shim of tools/citus-move-repro.ts: Citus' catch-up
 * target on the source becomes pg_current_wal_insert_lsn() instead of pg_current_wal_lsn().
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../test/harness/test-database';
import { applyNodeSettings, NodeSettings, workers } from './citus-move-repro';
import { startLocalCluster, stopLocalCluster } from './db/local-cluster';

const ROOT = resolve(__dirname, '..');
const log = (message: string): void => {
  process.stdout.write(`[move-e2e] ${message}\n`);
};

function options() {
  const raw = new Map(
    process.argv.slice(2).map((arg) => {
      const match = /^--([a-z-]+)=(.*)$/.exec(arg);
      if (!match) throw new Error(`expected --name=value, got ${arg}`);
      return [match[1], match[2]] as const;
    }),
  );
  const target = raw.get('catchup-target') ?? 'write';
  if (target !== 'write' && target !== 'insert') throw new Error('--catchup-target=write|insert');
  const settings: NodeSettings = {
    synchronousCommit: raw.get('synchronous-commit'),
    walWriterDelay: raw.get('wal-writer-delay'),
    catchupTarget: target,
  };
  return {
    runs: Number(raw.get('runs') ?? 3),
    mode: raw.get('mode') ?? 'force_logical',
    out: resolve(raw.get('out') ?? join(ROOT, '.db', 'move-e2e.jsonl')),
    settings,
  };
}

interface TestOutcome {
  test: string;
  passed: boolean;
}

function parse(output: string): { tests: TestOutcome[]; missing: number[] } {
  const tests = [...output.matchAll(/^\s+([✓✕]) (\[citus\] should .+?) \(\d+ ms\)$/gm)].map(
    (m) => ({
      test: m[2],
      passed: m[1] === '✓',
    }),
  );
  const missing = [...output.matchAll(/- Expected\s+- (\d+)/g)].map((m) => Number(m[1]));
  return { tests, missing };
}

async function main(): Promise<void> {
  const { runs, mode, out, settings } = options();
  mkdirSync(dirname(out), { recursive: true });
  for (let run = 1; run <= runs; run += 1) {
    const dir = join(ROOT, '.db', `move-e2e-${process.pid}`);
    const ports = [await freePort(), await freePort(), await freePort()];
    const state = await startLocalCluster({
      dir,
      basePort: ports[0],
      ports,
      database: 'notes_test',
      citus: 'on',
      workers: 2,
      fast: true,
      log: () => undefined,
    });
    try {
      const admin = new Client({ connectionString: state.url });
      await admin.connect();
      const nodes = await workers(admin, state.url).finally(() => admin.end());
      await applyNodeSettings(state.url, nodes, settings);
      const started = Date.now();
      // jest itself (no npx/sh in between), so the timeout stops it: a test that times out
      // leaves its traffic loop running and jest with it.
      const result = spawnSync(
        process.execPath,
        [
          require.resolve('jest/bin/jest'),
          'test/cluster-operations.e2e-spec.ts',
          '--selectProjects',
          'e2e',
        ],
        {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, TEST_DATABASE_URL: state.url, CITUS_SHARD_TRANSFER_MODE: mode },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 15 * 60_000,
          killSignal: 'SIGKILL',
        },
      );
      const output = `${result.stdout}\n${result.stderr}`;
      const { tests, missing } = parse(output);
      const line = {
        at: new Date().toISOString(),
        run,
        mode,
        settings,
        seconds: Math.round((Date.now() - started) / 1000),
        exit: result.status ?? result.signal,
        tests,
        missing,
        // What a failing test reported (the diff names the missing ids).
        failures: [...output.matchAll(/● .+?\n\n([\s\S]+?)\n\s+at /g)].map((m) =>
          m[1].slice(0, 1500),
        ),
      };
      appendFileSync(out, `${JSON.stringify(line)}\n`);
      log(
        `run ${run}/${runs} ${mode} ${JSON.stringify(settings)}: ` +
          tests.map((t) => `${t.passed ? 'pass' : 'FAIL'} ${t.test.slice(15, 45)}`).join('; ') +
          (missing.length ? `; missing acknowledged notes: ${missing.join(', ')}` : ''),
      );
      if (tests.length === 0) log(output.slice(-3000));
    } finally {
      stopLocalCluster(dir, { destroy: true, log: () => undefined });
    }
  }
}

main().catch((error: unknown) => {
  console.error(
    `[move-e2e] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
