import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** Starts the real entry point (src/main.ts) and collects what it prints until it exits. */
function boot(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, ...env },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('Boot-time configuration (e2e)', () => {
  const database = { DATABASE_URL: process.env.E2E_APP_DATABASE_URL };

  it('should refuse to start in production without JWT_SECRET, naming the variable', async () => {
    const { code, output } = await boot({ ...database, NODE_ENV: 'production' });
    expect(code).toBe(1);
    expect(output).toContain('JWT_SECRET must be set to at least 32 characters');
    expect(output).not.toContain('listening');
  });

  it('should refuse a weak secret and a missing database URL, naming both', async () => {
    const { code, output } = await boot({ NODE_ENV: 'production', JWT_SECRET: 'secret' });
    expect(code).toBe(1);
    expect(output).toContain('JWT_SECRET');
    expect(output).toContain('DATABASE_URL is required');
  });
});
