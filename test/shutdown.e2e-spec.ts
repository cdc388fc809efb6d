import { ChildProcess } from 'node:child_process';
import { Pool } from 'pg';
import { groundTruthPool, PASSWORD, unique } from './harness/e2e';
import { answersReady, startServiceProcess } from './harness/service-process';

type Outcome = { content: string; status: number | 'error' };

/**
 * The real entry point as its own process, stopped with SIGTERM in the middle of a burst of
 * writes: every write answered 201 must be in the database, and nothing else may be.
 */
describe('Graceful shutdown (e2e)', () => {
  let child: ChildProcess;
  let output: () => string;
  let db: Pool;
  let base: string;

  beforeAll(async () => {
    db = groundTruthPool();
    const service = await startServiceProcess(
      {
        JWT_SECRET: 'shutdown-test-secret-long-enough-for-config',
        AUTH_RATE_LIMIT_PER_IP: '100000',
        AUTH_RATE_LIMIT_PER_EMAIL: '100000',
        SHUTDOWN_DELAY_MS: '400',
      },
      answersReady,
    );
    ({ child, base } = service);
    output = service.output;
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await db.end();
  });

  it('should finish in-flight writes, turn unready, close and lose nothing on SIGTERM', async () => {
    const email = `${unique('burst')}@example.com`;
    const registered = await fetch(`${base}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tenantName: unique('Burst'),
        username: unique('b'),
        email,
        password: PASSWORD,
      }),
    });
    expect(registered.status).toBe(201);
    const tenantId = ((await registered.json()) as { tenant: { id: string } }).tenant.id;
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };

    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const outcomes: Outcome[] = [];
    let sent = 0;
    let signalled = false;
    let readinessAfterSignal: number | 'error' | undefined;

    const writer = async (lane: number): Promise<void> => {
      for (let i = 0; ; i += 1) {
        const content = `lane ${lane} write ${i}`;
        sent += 1;
        if (sent === 60 && !signalled) {
          signalled = true;
          child.kill('SIGTERM');
          // The signal is handled asynchronously: poll until readiness flips (or the port closes).
          for (let poll = 0; poll < 50 && readinessAfterSignal !== 503; poll += 1) {
            readinessAfterSignal = await fetch(`${base}/health/ready`).then(
              (response) => response.status,
              () => 'error' as const,
            );
            if (readinessAfterSignal === 'error') break;
            await new Promise((done) => setTimeout(done, 10));
          }
        }
        try {
          const response = await fetch(`${base}/api/v1/notes`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
            body: JSON.stringify({ content }),
          });
          outcomes.push({ content, status: response.status });
        } catch {
          outcomes.push({ content, status: 'error' });
          // Refused connections mean the listener is closed: this lane is done.
          if (signalled) return;
        }
        if (i > 2000) return;
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((lane) => writer(lane)));
    const code = await exited;

    const answered = outcomes
      .filter((o) => o.status === 201)
      .map((o) => o.content)
      .sort();
    const { rows } = await db.query(
      'SELECT content FROM notes WHERE tenant_id = $1 ORDER BY content',
      [tenantId],
    );
    const stored = rows.map((row: { content: string }) => row.content).sort();

    expect(signalled).toBe(true);
    expect(readinessAfterSignal).toBe(503);
    expect(answered.length).toBeGreaterThan(60);
    expect(outcomes.some((o) => o.status === 'error')).toBe(true);
    expect(outcomes.every((o) => o.status === 201 || o.status === 'error')).toBe(true);
    expect(stored).toEqual(answered);
    expect(code).toBe(0);
    expect(output()).toContain('closed cleanly');
  });
});
