import { ChildProcess } from 'node:child_process';
import { startServiceProcess } from './harness/service-process';

/** WEB_CONCURRENCY=2: the real entry point as a supervisor with two HTTP workers on one port. */
describe('Several processes (e2e)', () => {
  let child: ChildProcess;
  let output: () => string;
  let base: string;

  beforeAll(async () => {
    const service = await startServiceProcess(
      {
        WEB_CONCURRENCY: '2',
        JWT_SECRET: 'cluster-test-secret-long-enough-for-config',
        SHUTDOWN_DELAY_MS: '100',
      },
      // Both workers must be listening: each logs its own line.
      ({ output }) => Promise.resolve((output().match(/"msg":"listening on/g) ?? []).length >= 2),
    );
    ({ child, base, output } = service);
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const pidsServing = () =>
    new Set(
      output()
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
    expect((output().match(/"msg":"closed cleanly"/g) ?? []).length).toBe(2);
  });
});
