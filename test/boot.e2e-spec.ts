import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Http, unique, useTestApp } from './harness/e2e';

const ROOT = resolve(__dirname, '..');

/** Runs a TypeScript entry point of the project and collects what it prints until it exits. */
function run(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', script, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env } },
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

const boot = (env: Record<string, string | undefined>) => run('src/main.ts', [], env);

describe('Boot-time configuration (e2e)', () => {
  const database = { DATABASE_URL: process.env.E2E_APP_DATABASE_URL };

  it('should refuse to start in production without JWT_SECRET, naming the variable', async () => {
    const { code, output } = await boot({ ...database, NODE_ENV: 'production' });
    expect(code).toBe(1);
    expect(output).toContain('JWT_SECRET must be set to at least 32 characters');
    expect(output).not.toContain('listening');
  });

  it('should refuse to start with an ADMIN_PASSWORD that breaks the password policy', async () => {
    const { code, output } = await boot({
      ...database,
      NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(40),
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'passwordpassword',
    });
    expect(code).toBe(1);
    expect(output).toContain('ADMIN_PASSWORD is one of the most common passwords');
    expect(output).not.toContain('listening');
  });

  it('should refuse a weak secret and a missing database URL, naming both', async () => {
    const { code, output } = await boot({ NODE_ENV: 'production', JWT_SECRET: 'secret' });
    expect(code).toBe(1);
    expect(output).toContain('JWT_SECRET');
    expect(output).toContain('DATABASE_URL is required');
  });
});

describe('Operator CLI (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  it('should create an operator who can then log in, and refuse a duplicate or short password', async () => {
    const email = `${unique('ops')}@example.com`;
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: process.env.E2E_APP_DATABASE_URL,
      JWT_SECRET: 'x'.repeat(40),
      BCRYPT_COST: '4',
    };
    const created = await run('src/operators/create-operator.ts', [email], {
      ...env,
      OPERATOR_PASSWORD: 'a long operator password',
    });
    expect(created.output).toContain(`created operator`);
    expect(created.code).toBe(0);
    await http()
      .post('/api/v1/admin/auth/login')
      .send({ email, password: 'a long operator password' })
      .expect(200);

    const duplicate = await run('src/operators/create-operator.ts', [email], {
      ...env,
      OPERATOR_PASSWORD: 'another long password',
    });
    expect(duplicate.code).toBe(1);
    expect(duplicate.output).toContain('exists');

    const short = await run('src/operators/create-operator.ts', [`${unique('x')}@example.com`], {
      ...env,
      OPERATOR_PASSWORD: 'short',
    });
    expect(short.code).toBe(1);
    expect(short.output).toContain('12 to 72 bytes');
  });

  it('should refuse a password that breaks the policy, saying why, and create no one', async () => {
    const env = {
      NODE_ENV: 'test',
      DATABASE_URL: process.env.E2E_APP_DATABASE_URL,
      JWT_SECRET: 'x'.repeat(40),
      BCRYPT_COST: '4',
    };
    const email = `${unique('ops')}@example.com`;
    for (const [password, message] of [
      // 72 bytes as typed, 288 in NFKC form: bcrypt would hash only the first quarter.
      ['\u337f'.repeat(24), 'the password must be 12 to 72 bytes long'],
      [email.toUpperCase(), 'the password must not be the email address'],
      ['passwordpassword', 'the password is one of the most common passwords'],
    ]) {
      const refused = await run('src/operators/create-operator.ts', [email], {
        ...env,
        OPERATOR_PASSWORD: password,
      });
      expect({ code: refused.code, output: refused.output }).toEqual({
        code: 1,
        output: expect.stringContaining(message),
      });
    }
    const { rows } = await ctx.db.query('SELECT 1 FROM operators WHERE email = $1', [email]);
    expect(rows).toHaveLength(0);
  });
});
