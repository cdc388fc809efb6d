import { JwtService } from '@nestjs/jwt';
import {
  bearer,
  Http,
  invite,
  login,
  PASSWORD,
  register,
  TEST_JWT,
  unique,
  useTestApp,
  verifyEmail,
} from './harness/e2e';

/** The session id (`sid`) an access token carries. */
function sessionOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sid: string })
    .sid;
}

describe('Auth (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  describe('POST /api/v1/auth/register', () => {
    it('should create a tenant whose first user is its owner, without exposing the hash', async () => {
      const tenantName = unique('Acme');
      const response = await http()
        .post('/api/v1/auth/register')
        .send({
          tenantName,
          username: 'Alice_1',
          email: '  Alice.Smith@Example.COM ',
          password: PASSWORD,
        })
        .expect(201);
      expect(response.body).toEqual({
        tenant: {
          id: expect.stringMatching(/^\d+$/),
          name: tenantName,
          createdAt: expect.any(String),
        },
        user: {
          id: expect.stringMatching(/^\d+$/),
          username: 'alice_1',
          email: 'alice.smith@example.com',
          role: 'owner',
          createdAt: expect.any(String),
        },
        // A new email: an account that can log in now, and a confirmation mail on its way.
        account: { emailVerified: false, loginOpen: true },
      });
      expect(JSON.stringify(response.body)).not.toMatch(/password|\$2[aby]\$/i);

      const { rows } = await ctx.db.query(
        'SELECT email, tenant_id::text, user_id::text FROM login_directory WHERE email = $1 AND tenant_id = $2',
        ['alice.smith@example.com', response.body.tenant.id],
      );
      expect(rows).toEqual([
        {
          email: 'alice.smith@example.com',
          tenant_id: response.body.tenant.id,
          user_id: response.body.user.id,
        },
      ]);
    });

    it('should refuse an existing tenant name, in any letter case, without an invitation', async () => {
      const owner = await register(http);
      const response = await http()
        .post('/api/v1/auth/register')
        .send({
          tenantName: owner.tenant.name.toUpperCase(),
          username: unique('bob'),
          email: `${unique('bob')}@example.com`,
          password: PASSWORD,
        })
        .expect(409);
      expect(response.body).toMatchObject({ statusCode: 409, code: 'TENANT_NAME_TAKEN' });
    });

    it('should let an invited person join as the invited role, once per code', async () => {
      const owner = await register(http);
      const code = await invite(http, owner.token, 'admin');
      const joined = await register(http, { tenantName: owner.tenant.name, inviteCode: code });
      expect(joined.tenant.id).toBe(owner.tenant.id);
      expect(joined.user.role).toBe('admin');

      const again = await http()
        .post('/api/v1/auth/register')
        .send({
          tenantName: owner.tenant.name,
          username: unique('carol'),
          email: `${unique('carol')}@example.com`,
          password: PASSWORD,
          inviteCode: code,
        })
        .expect(403);
      expect(again.body.code).toBe('INVITATION_INVALID');

      const { rows } = await ctx.db.query(
        'SELECT used_by::text FROM invitations WHERE tenant_id = $1 AND used_at IS NOT NULL',
        [owner.tenant.id],
      );
      expect(rows).toEqual([{ used_by: joined.user.id }]);
    });

    it('should reject a wrong, foreign or expired invitation code and create nothing', async () => {
      const owner = await register(http);
      const other = await register(http);
      const foreignCode = await invite(http, other.token);
      const expiredCode = await invite(http, owner.token);
      await ctx.db.query(
        `UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE tenant_id = $1`,
        [owner.tenant.id],
      );
      for (const inviteCode of ['not-a-real-code-at-all', foreignCode, expiredCode]) {
        const email = `${unique('mallory')}@example.com`;
        const response = await http()
          .post('/api/v1/auth/register')
          .send({
            tenantName: owner.tenant.name,
            username: unique('m'),
            email,
            password: PASSWORD,
            inviteCode,
          })
          .expect(403);
        expect(response.body.code).toBe('INVITATION_INVALID');
        const { rows } = await ctx.db.query('SELECT 1 FROM login_directory WHERE email = $1', [
          email,
        ]);
        expect(rows).toHaveLength(0);
      }
    });

    it('should reject an invitation code for a tenant name that does not exist', async () => {
      const response = await http()
        .post('/api/v1/auth/register')
        .send({
          tenantName: unique('Ghost'),
          username: unique('g'),
          email: `${unique('g')}@example.com`,
          password: PASSWORD,
          inviteCode: 'some-invitation-code',
        })
        .expect(403);
      expect(response.body.code).toBe('INVITATION_INVALID');
    });

    it('should refuse a second account with the same email or username in one tenant', async () => {
      const owner = await register(http);
      await verifyEmail(http, owner.email);
      const sameEmail = await http()
        .post('/api/v1/auth/register')
        .send({
          tenantName: owner.tenant.name,
          username: unique('x'),
          email: owner.email.toUpperCase(),
          password: PASSWORD,
          inviteCode: await invite(http, owner.token),
        })
        .expect(409);
      expect(sameEmail.body.code).toBe('EMAIL_TAKEN');

      const sameUsername = await http()
        .post('/api/v1/auth/register')
        .send({
          tenantName: owner.tenant.name,
          username: owner.user.username,
          email: `${unique('y')}@example.com`,
          password: PASSWORD,
          inviteCode: await invite(http, owner.token),
        })
        .expect(409);
      expect(sameUsername.body.code).toBe('USERNAME_TAKEN');

      // A failed registration must not burn the invitation it carried.
      const { rows } = await ctx.db.query(
        'SELECT count(*)::int AS unused FROM invitations WHERE tenant_id = $1 AND used_at IS NULL',
        [owner.tenant.id],
      );
      expect(rows[0].unused).toBe(2);
    });

    it('should allow the same email (one account, its password) in different tenants once confirmed', async () => {
      const email = `${unique('shared')}@example.com`;
      const first = await register(http, { email });
      await verifyEmail(http, email);
      const second = await register(http, { email });
      expect(second.tenant.id).not.toBe(first.tenant.id);
    });

    it.each([
      [{}, 'tenantName'],
      [{ tenantName: 'x' }, 'tenantName must be longer'],
      [{ tenantName: 'y'.repeat(101) }, 'tenantName must be shorter'],
      [{ tenantName: 42 }, 'tenantName must be a string'],
      [{ username: 'a b' }, 'username must be 3 to 32'],
      [{ email: 'not-an-email' }, 'email must be a valid email'],
      [{ password: 'short' }, 'password must be 8 to 72 bytes'],
      [{ password: 'é'.repeat(37) }, 'password must be 8 to 72 bytes'],
      [{ password: 12345678 }, 'password must be a string'],
      [{ isAdmin: true }, 'property isAdmin should not exist'],
      [{ inviteCode: 'short' }, 'inviteCode must be longer'],
    ])('should answer 400 naming the field for %j', async (override, message) => {
      const valid = {
        tenantName: unique('Valid'),
        username: unique('valid'),
        email: `${unique('valid')}@example.com`,
        password: PASSWORD,
      };
      const body = Object.keys(override).length === 0 ? {} : { ...valid, ...override };
      const response = await http().post('/api/v1/auth/register').send(body).expect(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.message).toContain(message);
    });

    it('should answer malformed JSON and non-object bodies with 400, and huge bodies with 413', async () => {
      const malformed = await http()
        .post('/api/v1/auth/register')
        .set('Content-Type', 'application/json')
        .send('{"tenantName": ')
        .expect(400);
      expect(malformed.body.statusCode).toBe(400);
      await http()
        .post('/api/v1/auth/register')
        .set('Content-Type', 'application/json')
        .send('[1,2]')
        .expect(400);
      const huge = await http()
        .post('/api/v1/auth/register')
        .send({ tenantName: 'x'.repeat(100_000) })
        .expect(413);
      expect(huge.body.code).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('POST /api/v1/auth/login', () => {
    it('should issue a bearer token with user and tenant for the right password', async () => {
      const owner = await register(http);
      const response = await http()
        .post('/api/v1/auth/login')
        .send({ email: owner.email.toUpperCase(), password: PASSWORD })
        .expect(200);
      expect(response.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 300,
        refreshToken: expect.stringMatching(/^\d+\.[\w-]{22}\.0\.[\w-]{43}$/),
        refreshExpiresIn: 30 * 24 * 3600,
        user: expect.objectContaining({ id: owner.user.id, role: 'owner', email: owner.email }),
        tenant: expect.objectContaining({ id: owner.tenant.id, name: owner.tenant.name }),
      });
      const claims = new JwtService().decode<Record<string, unknown>>(response.body.accessToken);
      expect(claims).toMatchObject({
        scope: 'tenant',
        sub: owner.user.id,
        tid: owner.tenant.id,
        role: 'owner',
        sid: response.body.refreshToken.split('.')[1],
        iss: TEST_JWT.issuer,
        aud: TEST_JWT.audience,
        exp: expect.any(Number),
      });
    });

    it('should give unknown email and wrong password the same 401 body', async () => {
      const owner = await register(http);
      const wrong = await http()
        .post('/api/v1/auth/login')
        .send({ email: owner.email, password: 'wrong password!' })
        .expect(401);
      const unknown = await http()
        .post('/api/v1/auth/login')
        .send({ email: `${unique('nobody')}@example.com`, password: PASSWORD })
        .expect(401);
      expect(wrong.body).toEqual(unknown.body);
      expect(wrong.body).toEqual({
        statusCode: 401,
        code: 'INVALID_CREDENTIALS',
        message: 'Invalid email or password',
      });
    });

    it('should ask for a tenant when the credentials match in several, and accept id or name', async () => {
      const email = `${unique('multi')}@example.com`;
      const first = await register(http, { email });
      await verifyEmail(http, email);
      const second = await register(http, { email });
      const response = await http()
        .post('/api/v1/auth/login')
        .send({ email, password: PASSWORD })
        .expect(409);
      expect(response.body.code).toBe('TENANT_CHOICE_REQUIRED');
      expect(response.body.tenants).toEqual(
        expect.arrayContaining([
          { id: first.tenant.id, name: first.tenant.name },
          { id: second.tenant.id, name: second.tenant.name },
        ]),
      );
      expect(response.body.tenants).toHaveLength(2);
      expect(response.body).not.toHaveProperty('accessToken');

      const byName = await http()
        .post('/api/v1/auth/login')
        .send({ email, password: PASSWORD, tenant: second.tenant.name.toLowerCase() })
        .expect(200);
      expect(byName.body.tenant.id).toBe(second.tenant.id);
      const byId = await http()
        .post('/api/v1/auth/login')
        .send({ email, password: PASSWORD, tenant: Number(first.tenant.id) })
        .expect(200);
      expect(byId.body.tenant.id).toBe(first.tenant.id);
    });

    it('should not ask for a tenant when the password matches in only one of them', async () => {
      const email = `${unique('half')}@example.com`;
      const first = await register(http, { email });
      await http()
        .post('/api/v1/auth/register')
        .send({
          tenantName: unique('T'),
          username: unique('u'),
          email,
          password: 'another password',
        })
        .expect(201);
      const response = await http()
        .post('/api/v1/auth/login')
        .send({ email, password: PASSWORD })
        .expect(200);
      expect(response.body.tenant.id).toBe(first.tenant.id);
    });

    it('should answer 401 when the named tenant is not one of the account', async () => {
      const owner = await register(http);
      const other = await register(http);
      const response = await http()
        .post('/api/v1/auth/login')
        .send({ email: owner.email, password: PASSWORD, tenant: other.tenant.id })
        .expect(401);
      expect(response.body.code).toBe('INVALID_CREDENTIALS');
    });

    it.each([
      [{ password: PASSWORD }, 'email'],
      [{ email: 'x@example.com' }, 'password'],
      [{ email: 'nope', password: PASSWORD }, 'email must be a valid email'],
      [{ email: 'x@example.com', password: 5 }, 'password must be a string'],
      [
        { email: 'x@example.com', password: PASSWORD, tenant: {} },
        'tenant must be a tenant id or name',
      ],
      [{ email: 'x@example.com', password: PASSWORD, extra: 1 }, 'property extra should not exist'],
    ])('should answer 400 naming the field for %j', async (body, message) => {
      const response = await http().post('/api/v1/auth/login').send(body).expect(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.message).toContain(message);
    });
  });

  describe('GET /api/v1/auth/me and tokens', () => {
    it('should return the caller and their tenant', async () => {
      const owner = await register(http);
      const response = await http()
        .get('/api/v1/auth/me')
        .set(...bearer(owner.token))
        .expect(200);
      expect(response.body).toEqual({
        user: expect.objectContaining({ id: owner.user.id, email: owner.email, role: 'owner' }),
        tenant: expect.objectContaining({ id: owner.tenant.id, name: owner.tenant.name }),
      });
    });

    it('should refuse missing, forged, expired, foreign-audience and alg=none tokens', async () => {
      const owner = await register(http);
      const claims = {
        scope: 'tenant',
        sub: owner.user.id,
        tid: owner.tenant.id,
        role: 'owner',
        // The owner's real session: a well-signed token of a session that does not exist is
        // refused too (test/live-access.e2e-spec.ts).
        sid: sessionOf(owner.token),
      };
      const sign = (secret: string, options: Record<string, unknown>) =>
        new JwtService().sign(claims, {
          secret,
          algorithm: 'HS256',
          issuer: TEST_JWT.issuer,
          audience: TEST_JWT.audience,
          expiresIn: 60,
          ...options,
        });
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const body = Buffer.from(
        JSON.stringify({
          ...claims,
          iss: TEST_JWT.issuer,
          aud: TEST_JWT.audience,
          exp: 9999999999,
        }),
      ).toString('base64url');
      const { scope: _scope, ...unscoped } = claims;
      const tokens = {
        unscoped: new JwtService().sign(unscoped, {
          secret: TEST_JWT.secret,
          issuer: TEST_JWT.issuer,
          audience: TEST_JWT.audience,
          expiresIn: 60,
        }),
        forged: sign('some-other-secret-that-is-long-enough!!', {}),
        expired: sign(TEST_JWT.secret, { expiresIn: -10 }),
        audience: sign(TEST_JWT.secret, { audience: 'someone-else' }),
        issuer: sign(TEST_JWT.secret, { issuer: 'someone-else' }),
        none: `${header}.${body}.`,
        garbage: 'not.a.token',
        // Right secret, issuer and audience, but no expiry: every token must end.
        endless: new JwtService().sign(claims, {
          secret: TEST_JWT.secret,
          issuer: TEST_JWT.issuer,
          audience: TEST_JWT.audience,
        }),
        sessionless: new JwtService().sign(
          { scope: 'tenant', sub: owner.user.id, tid: owner.tenant.id, role: 'owner' },
          {
            secret: TEST_JWT.secret,
            issuer: TEST_JWT.issuer,
            audience: TEST_JWT.audience,
            expiresIn: 60,
          },
        ),
      };
      await http().get('/api/v1/auth/me').expect(401);
      for (const [kind, token] of Object.entries(tokens)) {
        const response = await http()
          .get('/api/v1/auth/me')
          .set(...bearer(token));
        expect({ kind, status: response.status, code: response.body.code }).toEqual({
          kind,
          status: 401,
          code: 'UNAUTHENTICATED',
        });
      }
      // The same claims, correctly signed, do work: the refusals above are about the signature.
      await http()
        .get('/api/v1/auth/me')
        .set(...bearer(sign(TEST_JWT.secret, {})))
        .expect(200);
    });

    it('should refuse altered copies of a token it already accepted, and the token once expired', async () => {
      const owner = await register(http);
      const claims = {
        scope: 'tenant',
        sub: owner.user.id,
        tid: owner.tenant.id,
        role: 'owner',
        sid: sessionOf(owner.token),
      };
      const token = new JwtService().sign(claims, {
        secret: TEST_JWT.secret,
        issuer: TEST_JWT.issuer,
        audience: TEST_JWT.audience,
        expiresIn: 2,
      });
      // Accepted (and remembered as verified) first...
      await http()
        .get('/api/v1/auth/me')
        .set(...bearer(token))
        .expect(200);
      const [header, payload, signature] = token.split('.');
      const promoted = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), tid: '1' }),
      ).toString('base64url');
      const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
      // ...then nothing that differs from it in any byte rides on that verification.
      for (const altered of [
        `${header}.${promoted}.${signature}`,
        `${header}.${payload}.${flipped}`,
      ]) {
        await http()
          .get('/api/v1/auth/me')
          .set(...bearer(altered))
          .expect(401);
      }
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const expired = await http()
        .get('/api/v1/auth/me')
        .set(...bearer(token))
        .expect(401);
      expect(expired.body.code).toBe('UNAUTHENTICATED');
    });

    it('should accept a fresh login token on every protected route family', async () => {
      const owner = await register(http);
      const token = await login(http, owner.email, PASSWORD, owner.tenant.id);
      await http()
        .get('/api/v1/tenants/current')
        .set(...bearer(token))
        .expect(200);
      await http()
        .get('/api/v1/users')
        .set(...bearer(token))
        .expect(200);
      await http()
        .get('/api/v1/notes')
        .set(...bearer(token))
        .expect(200);
    });
  });
});
