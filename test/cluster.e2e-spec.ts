import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from './harness/test-database';

const ROOT = resolve(__dirname, '..');

/** WEB_CONCURRENCY=2: the real entry point as a supervisor with two HTTP workers on one port. */
describe('Several processes (e2e)', () => {
  let child: ChildProcess;
  let output = '';
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        PORT: String(port),
        WEB_CONCURRENCY: '2',
        DATABASE_URL: process.env.E2E_APP_DATABASE_URL,
        JWT_SECRET: 'cluster-test-secret-long-enough-for-config',
        BCRYPT_COST: '4',
        LOG_LEVEL: 'info',
        LOG_PRETTY: 'false',
        SHUTDOWN_DELAY_MS: '100',
      },
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Both workers must be listening: each logs its own line.
    for (let i = 0; i < 240; i += 1) {
      if ((output.match(/"msg":"listening on/g) ?? []).length >= 2) return;
      await new Promise((done) => setTimeout(done, 250));
    }
    throw new Error(`workers did not start:\n${output}`);
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const pidsServing = () =>
    new Set(
      output
        .split('\n')
        .filter((line) => line.includes('"msg":"request completed"'))
        .map((line) => (JSON.parse(line) as { pid: number }).pid),
    );

  it('should serve from two worker processes and stop all of them cleanly on SIGTERM', async () => {
    // Fresh connections, so the primary hands them to both workers.
    for (let i = 0; i < 40 && pidsServing().size < 2; i += 1) {
      const response = await fetch(`${base}/health`, { headers: { connection: 'close' } });
      expect(response.status).toBe(200);
      await new Promise((done) => setTimeout(done, 50));
    }
    expect(pidsServing().size).toBe(2);
    expect(pidsServing().has(child.pid ?? -1)).toBe(false);

    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    await expect(exited).resolves.toBe(0);
    expect((output.match(/"msg":"closed cleanly"/g) ?? []).length).toBe(2);
  });
});
