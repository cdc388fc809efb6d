import { bearer, citusMode, Http, operatorToken, register, useTestApp } from './harness/e2e';

describe('Service surface (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  it('should answer liveness and readiness without a token, with the details for operators only', async () => {
    await http().get('/health').expect(200, { status: 'ok' });
    const anonymous = await http().get('/health/ready').expect(200);
    // Worker hosts and ports are nobody else's business.
    expect(anonymous.body).toEqual({ status: 'ok' });
    expect(anonymous.headers['cache-control']).toBe('no-store');
    const tenantUser = await register(http);
    await http()
      .get('/health/ready')
      .set(...bearer(tenantUser.token))
      .expect(200, { status: 'ok' });

    const ready = await http()
      .get('/health/ready')
      .set(...bearer(await operatorToken(http)))
      .expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', database: 'up' });
    if (citusMode) {
      // On Citus, readiness also means the coordinator reaches every worker.
      expect(ready.body.workers).toHaveLength(Number(process.env.E2E_CITUS_WORKERS));
      expect(ready.body.workers.every((w: { reachable: boolean }) => w.reachable)).toBe(true);
    } else {
      expect(ready.body).not.toHaveProperty('workers');
    }
  });

  it('should serve Swagger UI at /docs and the OpenAPI document at /docs-json', async () => {
    const ui = await http().get('/docs/').expect(200);
    expect(ui.text).toContain('swagger-ui');
    const doc = await http().get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/auth/register',
        '/api/v1/auth/login',
        '/api/v1/auth/me',
        '/api/v1/tenants/current',
        '/api/v1/tenants/current/invitations',
        '/api/v1/users',
        '/api/v1/users/{id}',
        '/api/v1/notes',
        '/api/v1/notes/{id}',
        '/health',
        '/health/ready',
      ]),
    );
    // The operator API is documented apart, with only the schemas it uses.
    expect(Object.keys(doc.body.paths).filter((path) => path.includes('/admin/'))).toEqual([]);
    expect(Object.keys(doc.body.components.schemas)).not.toContain('NodesAnswer');
    const admin = await http().get('/admin-docs-json').expect(200);
    const adminPaths = Object.keys(admin.body.paths);
    expect(adminPaths).toEqual(
      expect.arrayContaining([
        '/api/v1/admin/auth/login',
        '/api/v1/admin/citus/nodes',
        '/api/v1/admin/registrations',
      ]),
    );
    expect(adminPaths.every((path) => path.startsWith('/api/v1/admin/'))).toBe(true);
    for (const [name, schema] of Object.entries(admin.body.components.schemas)) {
      expect({ name, schema }).toEqual({ name, schema: expect.any(Object) });
    }
    expect(JSON.stringify(admin.body)).not.toContain('CreateNoteDto');
    expect((await http().get('/admin-docs/').expect(200)).text).toContain('swagger-ui');
  });

  it('should document bearer security on exactly the routes the guard protects', async () => {
    const tenantDoc = await http().get('/docs-json').expect(200);
    const adminDoc = await http().get('/admin-docs-json').expect(200);
    const doc = {
      body: { ...tenantDoc.body, paths: { ...tenantDoc.body.paths, ...adminDoc.body.paths } },
    };
    const publicRoutes = new Set([
      'post /api/v1/auth/register',
      'post /api/v1/auth/login',
      'post /api/v1/auth/refresh',
      'post /api/v1/auth/verify-email',
      'post /api/v1/auth/verify-email/resend',
      'post /api/v1/auth/password-reset',
      'post /api/v1/auth/password-reset/confirm',
      'post /api/v1/admin/auth/login',
      'post /api/v1/admin/auth/refresh',
      'get /health',
      'get /health/ready',
    ]);
    const expectedScheme = (key: string, path: string): string | null => {
      if (publicRoutes.has(key)) return null;
      return path.startsWith('/api/v1/admin/') ? 'operator' : 'bearer';
    };
    const paths = doc.body.paths as Record<
      string,
      Record<string, { security?: Array<Record<string, unknown>> }>
    >;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const key = `${method} ${path}`;
        const schemes = (operation.security ?? []).flatMap((requirement) =>
          Object.keys(requirement),
        );
        const expected = expectedScheme(key, path);
        expect({ key, schemes }).toEqual({ key, schemes: expected ? [expected] : [] });
        // The documentation must match behaviour: a secured route really refuses anonymous calls.
        if (expected) {
          const concrete = path.replace('{id}', '1');
          const verb = method as 'get' | 'post' | 'patch' | 'delete';
          const response = await http()[verb](concrete).send({});
          expect({ key, status: response.status }).toEqual({ key, status: 401 });
        }
      }
    }
    expect(Object.keys(doc.body.components.securitySchemes).sort()).toEqual(['bearer', 'operator']);
  });

  it('should document the errors that the account, session and member routes answer', async () => {
    const owner = await register(http);
    const tenantDoc = (await http().get('/docs-json').expect(200)).body;
    const adminDoc = (await http().get('/admin-docs-json').expect(200)).body;
    const paths = { ...tenantDoc.paths, ...adminDoc.paths } as Record<
      string,
      Record<string, { responses: Record<string, unknown> }>
    >;
    const documented = (method: string, path: string) =>
      Object.keys(paths[path]?.[method]?.responses ?? {});

    // Bad input, sent for real: the status it gets must be in the document.
    const userId = owner.user.id;
    const badInput: Array<[string, string, string, object, boolean]> = [
      ['post', '/api/v1/auth/refresh', '/api/v1/auth/refresh', { refreshToken: 5 }, false],
      ['post', '/api/v1/admin/auth/refresh', '/api/v1/admin/auth/refresh', {}, false],
      ['post', '/api/v1/auth/logout', '/api/v1/auth/logout', { everywhere: 'yes' }, true],
      ['post', '/api/v1/auth/password', '/api/v1/auth/password', { newPassword: 1 }, true],
      ['post', '/api/v1/auth/verify-email', '/api/v1/auth/verify-email', { token: 1 }, false],
      ['post', '/api/v1/auth/verify-email/resend', '/api/v1/auth/verify-email/resend', {}, false],
      ['post', '/api/v1/auth/password-reset', '/api/v1/auth/password-reset', { email: 'x' }, false],
      [
        'post',
        '/api/v1/auth/password-reset/confirm',
        '/api/v1/auth/password-reset/confirm',
        {},
        false,
      ],
      ['patch', '/api/v1/users/{id}', `/api/v1/users/${userId}`, { role: 'boss' }, true],
      ['patch', '/api/v1/users/{id}', '/api/v1/users/abc', { role: 'member' }, true],
      ['delete', '/api/v1/users/{id}', '/api/v1/users/abc', {}, true],
    ];
    for (const [method, path, concrete, body, authenticated] of badInput) {
      const call = http()[method as 'post' | 'patch' | 'delete'](concrete);
      const response = await (authenticated ? call.set(...bearer(owner.token)) : call).send(body);
      const key = `${method} ${path}`;
      expect({ key, status: response.status }).toEqual({ key, status: 400 });
      expect({ key, documented: documented(method, path) }).toEqual({
        key,
        documented: expect.arrayContaining(['400']),
      });
    }
    // Routes behind the credential rate limit answer 429 too.
    for (const path of [
      '/api/v1/auth/refresh',
      '/api/v1/auth/password',
      '/api/v1/admin/auth/refresh',
    ]) {
      expect({ path, documented: documented('post', path) }).toEqual({
        path,
        documented: expect.arrayContaining(['429']),
      });
    }
  });

  it('should answer unknown routes with a JSON 404', async () => {
    const response = await http().get('/api/v1/nope').expect(404);
    expect(response.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });
});

describe('Service surface with SWAGGER_ENABLED=false (e2e)', () => {
  const ctx = useTestApp({ SWAGGER_ENABLED: 'false' });

  it('should serve no docs and no OpenAPI document, and the API as before', async () => {
    for (const path of ['/docs/', '/docs-json', '/admin-docs/', '/admin-docs-json']) {
      const response = await ctx.http().get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    await ctx.http().get('/health').expect(200);
  });
});
