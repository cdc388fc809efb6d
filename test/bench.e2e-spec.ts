import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

interface Row {
  route: string;
  service: { rps: number; non2xx: number; failures: Record<string, number> };
  bare: { rps: number; non2xx: number; failures: Record<string, number> };
  pgbench?: { rps: number; non2xx: number };
  ratio: number;
}

/**
 * `npm run bench -- --smoke`: the benchmark's whole path (its own throwaway cluster, seeding,
 * the service from source, the bare baseline, pgbench, two processes, the result file) in a
 * few seconds per route, so the bench cannot rot between the runs that produce real figures.
 */
describe('Benchmark smoke run (e2e)', () => {
  it('should measure every route on every target and write a result without a failed request', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    try {
      const file = join(out, 'result.json');
      const { code, output } = await new Promise<{ code: number | null; output: string }>(
        (done) => {
          const child = spawn(
            process.execPath,
            ['-r', 'ts-node/register/transpile-only', 'bench/bench.ts', '--smoke'],
            { cwd: ROOT, env: { ...process.env, BENCH_OUT: file, BENCH_DATABASE_URL: '' } },
          );
          let text = '';
          child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
          child.on('exit', (exitCode) => done({ code: exitCode, output: text }));
        },
      );
      expect({ code, tail: code === 0 ? '' : output.slice(-3000) }).toEqual({ code: 0, tail: '' });
      const result = JSON.parse(readFileSync(file, 'utf8')) as {
        routes: Row[];
        processes: Record<string, { ratio: number }>;
      };
      expect(result.routes.map((row) => row.route)).toEqual([
        'list',
        'get',
        'create',
        'update',
        'login',
      ]);
      for (const row of result.routes) {
        expect({ route: row.route, service: row.service.rps > 0, bare: row.bare.rps > 0 }).toEqual({
          route: row.route,
          service: true,
          bare: true,
        });
        expect({
          route: row.route,
          service: row.service.failures,
          bare: row.bare.failures,
        }).toEqual({ route: row.route, service: {}, bare: {} });
        if (row.route !== 'login') expect(row.pgbench?.rps).toBeGreaterThan(0);
        expect(row.ratio).toBeGreaterThan(0);
      }
      expect(Object.keys(result.processes).sort()).toEqual(['create', 'list']);
      expect(output).toContain('| GET /notes?limit=20 |');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 240_000);
});
