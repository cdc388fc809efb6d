import { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import {
  bearer,
  Http,
  invite,
  PASSWORD,
  register,
  unique,
  useTestApp,
  verifyEmail,
} from './harness/e2e';

/** Collects what the service logs, one parsed JSON object per line. */
class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  }

  get entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

describe('Structured request logs (e2e)', () => {
  const capture = new LogCapture();
  const ctx = useTestApp({ LOG_LEVEL: 'info' }, capture);
  const http = (): Http => ctx.http();

  it('should log one JSON line per request with request id, tenant, user, route, status and time', async () => {
    const member = await register(http);
    const content = `private note ${unique('c')}`;
    const created = await http()
      .post('/api/v1/notes')
      .set(...bearer(member.token))
      .set('X-Request-Id', 'req-e2e-0001')
      .send({ content })
      .expect(201);
    expect(created.headers['x-request-id']).toBe('req-e2e-0001');
    const fresh = await http()
      .get('/api/v1/notes')
      .set(...bearer(member.token))
      .expect(200);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setImmediate(resolve));

    const entry = capture.entries.find(
      (line) => (line.req as { id?: string } | undefined)?.id === 'req-e2e-0001',
    );
    expect(entry).toMatchObject({
      level: 30,
      tenantId: member.tenant.id,
      userId: member.user.id,
      route: '/api/v1/notes',
      req: { id: 'req-e2e-0001', method: 'POST', url: '/api/v1/notes' },
      res: { statusCode: 201 },
      responseTime: expect.any(Number),
    });

    // Nothing secret reaches the logs: no password, no token, no note content, no headers.
    const everything = capture.lines.join('\n');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(member.token);
    expect(everything).not.toContain(content);
    expect(everything.toLowerCase()).not.toContain('authorization');
  });

  it('should log client errors as warnings without their bodies', async () => {
    await http()
      .post('/api/v1/auth/login')
      .send({ email: 'x@example.com', password: 'hunter2hunter2' })
      .expect(401);
    await new Promise((resolve) => setImmediate(resolve));
    const entry = capture.entries.find(
      (line) => (line.res as { statusCode?: number } | undefined)?.statusCode === 401,
    );
    expect(entry).toMatchObject({ level: 40, route: '/api/v1/auth/login' });
    expect(capture.lines.join('\n')).not.toContain('hunter2hunter2');
  });
});

describe('Rate limits on credentials (e2e)', () => {
  const ctx = useTestApp({
    AUTH_RATE_LIMIT_PER_EMAIL: '3',
    AUTH_RATE_LIMIT_PER_IP: '8',
    AUTH_RATE_WINDOW_SECONDS: '60',
  });
  const http = (): Http => ctx.http();

  it('should answer 429 with Retry-After after too many logins for one email', async () => {
    const email = `${unique('target')}@example.com`;
    for (let i = 0; i < 3; i += 1) {
      await http()
        .post('/api/v1/auth/login')
        .send({ email, password: 'guess number x' })
        .expect(401);
    }
    const limited = await http()
      .post('/api/v1/auth/login')
      .send({ email, password: 'guess' })
      .expect(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_REQUESTS' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The same email in other letter case is the same account.
    await http()
      .post('/api/v1/auth/login')
      .send({ email: email.toUpperCase(), password: 'guess' })
      .expect(429);
  });

  it('should limit one address trying many emails', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const response = await http()
        .post('/api/v1/auth/login')
        .send({ email: `${unique('spray')}@example.com`, password: 'guess number x' });
      statuses.push(response.status);
    }
    // Budget 8 per IP on this route, of which the test above already used some.
    expect(statuses).toContain(429);
    expect(statuses.slice(statuses.indexOf(429)).every((status) => status === 429)).toBe(true);
  });

  it('should limit registrations separately from logins', async () => {
    const email = `${unique('signup')}@example.com`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      // A confirmed email may join more tenants, so only the limit stops the next ones.
      if (i === 1) await verifyEmail(http, email);
      const response = await http()
        .post('/api/v1/auth/register')
        .send({ tenantName: unique('T'), username: unique('u'), email, password: PASSWORD });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 3)).toEqual([201, 201, 201]);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });
});

describe('No lockout by strangers (e2e)', () => {
  // Behind one proxy hop the client address comes from X-Forwarded-For.
  const ctx = useTestApp({ TRUST_PROXY: '1', AUTH_RATE_LIMIT_PER_EMAIL: '3' });
  const http = (): Http => ctx.http();
  const attempt = (from: string, email: string, password: string) =>
    http().post('/api/v1/auth/login').set('X-Forwarded-For', from).send({ email, password });

  it("should not let a stranger's invalid registrations for an address keep its owner at 429", async () => {
    const host = await register(http);
    const code = await invite(http, host.token);
    const email = `${unique('joiner')}@example.com`;
    const register1 = (from: string, body: Record<string, unknown>) =>
      http()
        .post('/api/v1/auth/register')
        .set('X-Forwarded-For', from)
        .send({ email, ...body });
    // More invalid registrations for the address than its per-email budget (3), from one client.
    const stranger = [];
    for (let i = 0; i < 5; i += 1) {
      stranger.push((await register1('203.0.113.60', { tenantName: 'x' })).status);
    }
    expect(stranger).toEqual([400, 400, 400, 429, 429]);
    // The owner, from their own client, joins with a valid invitation.
    await register1('198.51.100.60', {
      tenantName: host.tenant.name,
      username: unique('u'),
      password: PASSWORD,
      inviteCode: code,
    }).expect(201);
  });

  it('should slow the failing client down and let the owner in from elsewhere', async () => {
    const owner = await register(http);
    for (let i = 0; i < 3; i += 1) {
      await attempt('203.0.113.7', owner.email, `wrong guess ${i}`).expect(401);
    }
    // The first wait is 1 s: checked right away, even the right password waits (a slow machine
    // must not let the wait run out between the two, so no more requests than needed here).
    await attempt('203.0.113.7', owner.email, 'wrong guess 3').expect(429);
    const waiting = await attempt('203.0.113.7', owner.email, PASSWORD).expect(429);
    expect(Number(waiting.headers['retry-after'])).toBeGreaterThan(0);
    // The owner, from another address, is never refused for someone else's failures.
    await attempt('198.51.100.20', owner.email, PASSWORD).expect(200);
  });

  it('should make a client wait twice as long after each further failure', async () => {
    const owner = await register(http);
    for (let i = 0; i < 3; i += 1) await attempt('203.0.113.8', owner.email, 'wrong').expect(401);
    const first = await attempt('203.0.113.8', owner.email, 'wrong').expect(429);
    expect(Number(first.headers['retry-after'])).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await attempt('203.0.113.8', owner.email, 'wrong').expect(401);
    const second = await attempt('203.0.113.8', owner.email, 'wrong').expect(429);
    expect(Number(second.headers['retry-after'])).toBe(2);
  });

  it("should not let a registration check an account's password round the backoff", async () => {
    // Joining a further tenant checks the account's password: the same backoff as a login.
    const join = (from: string, email: string, password: string) =>
      http()
        .post('/api/v1/auth/register')
        .set('X-Forwarded-For', from)
        .send({ tenantName: unique('T'), username: unique('u'), email, password });
    const owner = await register(http);
    await verifyEmail(http, owner.email);
    for (let i = 0; i < 3; i += 1) await attempt('203.0.113.9', owner.email, 'wrong').expect(401);
    const refused = await join('203.0.113.9', owner.email, PASSWORD).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await join('198.51.100.21', owner.email, PASSWORD).expect(201);

    // And a wrong password sent with a registration counts as a failed login of that client.
    const other = await register(http);
    await verifyEmail(http, other.email);
    for (let i = 0; i < 2; i += 1) {
      const wrong = await join('203.0.113.10', other.email, `wrong guess ${i}`).expect(409);
      expect(wrong.body.code).toBe('ACCOUNT_EXISTS');
    }
    // Two wrong registrations and one wrong login: the third failure, and the client waits.
    await attempt('203.0.113.10', other.email, 'wrong').expect(401);
    await attempt('203.0.113.10', other.email, PASSWORD).expect(429);
    await attempt('198.51.100.22', other.email, PASSWORD).expect(200);
  });

  it('should not let a stolen access token guess the password round the backoff', async () => {
    const owner = await register(http);
    const change = (from: string, currentPassword: string) =>
      http()
        .post('/api/v1/auth/password')
        .set('X-Forwarded-For', from)
        .set(...bearer(owner.token))
        .send({ currentPassword, newPassword: 'a brand new passphrase' });
    for (let i = 0; i < 3; i += 1) {
      const wrong = await change('203.0.113.11', `wrong guess ${i}`).expect(401);
      expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
    }
    // The client now waits, even with the right password, and its logins of this email too.
    const waiting = await change('203.0.113.11', PASSWORD).expect(429);
    expect(Number(waiting.headers['retry-after'])).toBeGreaterThan(0);
    await attempt('203.0.113.11', owner.email, PASSWORD).expect(429);
    // The owner, elsewhere, is not held up.
    await attempt('198.51.100.23', owner.email, PASSWORD).expect(200);
  });
});

describe('HTTP hardening and database limits (e2e)', () => {
  const ctx = useTestApp({
    CORS_ORIGINS: 'https://app.example.com',
    DB_STATEMENT_TIMEOUT_MS: '300',
  });
  const http = (): Http => ctx.http();

  it('should send security headers and no x-powered-by', async () => {
    const response = await http().get('/health').expect(200);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers).not.toHaveProperty('x-powered-by');
  });

  it('should allow CORS for configured origins only', async () => {
    const allowed = await http()
      .options('/api/v1/notes')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .expect(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const other = await http()
      .options('/api/v1/notes')
      .set('Origin', 'https://evil.example.net')
      .set('Access-Control-Request-Method', 'POST');
    expect(other.headers).not.toHaveProperty('access-control-allow-origin');
  });

  it('should apply the configured statement timeout to the app connection', async () => {
    const dataSource = ctx.app.get(DataSource);
    const [row] = await dataSource.query<Array<Record<string, string>>>('SHOW statement_timeout');
    expect(Object.values(row)[0]).toBe('300ms');
    await expect(dataSource.query('SELECT pg_sleep(1)')).rejects.toThrow(/statement timeout/);
  });
});

describe('CORS off by default (e2e)', () => {
  const ctx = useTestApp();

  it('should send no CORS headers when no origin is configured', async () => {
    const response = await ctx
      .http()
      .options('/api/v1/notes')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST');
    expect(response.headers).not.toHaveProperty('access-control-allow-origin');
  });
});
