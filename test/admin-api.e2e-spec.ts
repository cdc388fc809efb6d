import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  bearer,
  citusMode,
  Http,
  Member,
  operatorToken,
  OPERATOR,
  register,
  tenantWithRoles,
  unique,
  useTestApp,
} from './harness/e2e';

const ADMIN_GETS = [
  '/api/v1/admin/citus/nodes',
  '/api/v1/admin/citus/tables',
  '/api/v1/admin/citus/shards',
  '/api/v1/admin/citus/activity',
  '/api/v1/admin/citus/tenants',
  '/api/v1/admin/citus/tenants/1',
  '/api/v1/admin/registrations',
  '/api/v1/admin/citus/rebalance',
];

/** The admin API as a client sees it, on Citus and on plain PostgreSQL. */
describe('Admin API (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();
  let operator: string;
  let tenant: { owner: Member; admin: Member; member: Member };

  beforeAll(async () => {
    operator = await operatorToken(http);
    tenant = await tenantWithRoles(http);
  });

  const get = (path: string, token = operator) =>
    http()
      .get(path)
      .set(...bearer(token));

  describe('operator login', () => {
    it('should issue an operator-scoped token', async () => {
      const response = await http().post('/api/v1/admin/auth/login').send(OPERATOR).expect(200);
      expect(response.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 300,
        refreshToken: expect.stringMatching(/^0\.[\w-]{22}\.0\.[\w-]{43}$/),
        refreshExpiresIn: 30 * 24 * 3600,
      });
      expect(response.headers['cache-control']).toBe('no-store');
      const claims = JSON.parse(
        Buffer.from(String(response.body.accessToken).split('.')[1], 'base64url').toString(),
      );
      expect(claims).toMatchObject({ scope: 'operator' });
      expect(claims).not.toHaveProperty('tid');
    });

    it('should give a wrong password and an unknown email the same 401', async () => {
      const wrong = await http()
        .post('/api/v1/admin/auth/login')
        .send({ email: OPERATOR.email, password: 'not the password' })
        .expect(401);
      const unknown = await http()
        .post('/api/v1/admin/auth/login')
        .send({ email: 'nobody@example.com', password: OPERATOR.password })
        .expect(401);
      expect(wrong.body).toEqual(unknown.body);
    });

    it('should not accept tenant user credentials', async () => {
      await http()
        .post('/api/v1/admin/auth/login')
        .send({ email: tenant.owner.email, password: tenant.owner.password })
        .expect(401);
    });

    it.each([
      [{ email: 'x' }, 'email must be a valid email'],
      [{ email: OPERATOR.email }, 'password'],
      [{ ...OPERATOR, role: 'root' }, 'property role should not exist'],
    ])('should answer %j with a 400 naming the field', async (body, message) => {
      const response = await http().post('/api/v1/admin/auth/login').send(body).expect(400);
      expect(response.body.message).toContain(message);
    });
  });

  describe('authorization matrix', () => {
    it('should answer every admin route: no token 401, tenant member and owner 403, operator 2xx', async () => {
      for (const path of ADMIN_GETS) {
        await http().get(path).expect(401);
        for (const who of [tenant.member, tenant.owner]) {
          const response = await get(path, who.token);
          expect({ path, status: response.status, code: response.body.code }).toEqual({
            path,
            status: 403,
            code: 'FORBIDDEN',
          });
        }
        const ok = await get(path);
        // tenants/1 may not exist in this database: 404 still proves the guard let it through.
        expect({
          path,
          ok: ok.status === 200 || (ok.status === 404 && path.endsWith('/1')),
        }).toEqual({
          path,
          ok: true,
        });
      }
      for (const path of [
        '/api/v1/admin/citus/tenants/1/isolate',
        '/api/v1/admin/citus/rebalance',
      ]) {
        await http().post(path).send({}).expect(401);
        for (const who of [tenant.member, tenant.owner]) {
          await http()
            .post(path)
            .set(...bearer(who.token))
            .send({})
            .expect(403);
        }
      }
    });

    it('should let the operator through the guard on the actions', async () => {
      const isolate = await http()
        .post('/api/v1/admin/citus/tenants/9223372036854775807/isolate')
        .set(...bearer(operator))
        .send({});
      expect(isolate.status).toBe(citusMode ? 404 : 409);
    });

    it('should refuse an operator token on tenant routes with 403', async () => {
      for (const path of [
        '/api/v1/auth/me',
        '/api/v1/notes',
        '/api/v1/users',
        '/api/v1/tenants/current',
      ]) {
        const response = await get(path);
        expect({ path, status: response.status }).toEqual({ path, status: 403 });
      }
      await http()
        .post('/api/v1/notes')
        .set(...bearer(operator))
        .send({ content: 'x' })
        .expect(403);
    });
  });

  describe('input validation', () => {
    it.each([
      ['/api/v1/admin/citus/tenants/abc', 400, 'id must be a positive integer id'],
      ['/api/v1/admin/citus/tenants/9223372036854775807', 404, 'not found'],
      ['/api/v1/admin/citus/tenants?limit=0', 400, 'limit must be at least 1'],
      ['/api/v1/admin/citus/tenants?limit=101', 400, 'limit must be at most 100'],
      ['/api/v1/admin/citus/tenants?cursor=x', 400, 'cursor must be a nextCursor'],
      ['/api/v1/admin/citus/shards?limit=500', 400, 'limit must be at most 100'],
      ['/api/v1/admin/citus/shards?node=abc', 400, 'node must be an integer node id'],
      ['/api/v1/admin/citus/shards?table=Robert%27);DROP', 400, 'table must be a table name'],
      ['/api/v1/admin/citus/shards?shard=1', 400, 'property shard should not exist'],
      ['/api/v1/admin/registrations?limit=0', 400, 'limit must be at least 1'],
      ['/api/v1/admin/registrations?limit=lots', 400, 'limit must be an integer'],
    ])('should answer GET %s with %i', async (path, status, message) => {
      const response = await get(path).expect(status);
      expect(response.body.message).toContain(message);
    });

    it('should reject a malformed isolation body', async () => {
      const response = await http()
        .post(`/api/v1/admin/citus/tenants/${tenant.owner.tenant.id}/isolate`)
        .set(...bearer(operator))
        .send({ targetNodeId: 'worker1' })
        .expect(400);
      expect(response.body.message).toContain('targetNodeId must be an integer node id');
    });
  });

  describe('registrations', () => {
    it('should list the newest registrations across tenants, newest first', async () => {
      const first = await register(http);
      const second = await register(http);
      const response = await get('/api/v1/admin/registrations?limit=100').expect(200);
      const items: Array<{ userId: string; tenantId: string; createdAt: string }> =
        response.body.items;
      const times = items.map((item) => new Date(item.createdAt).getTime());
      expect(times).toEqual([...times].sort((a, b) => b - a));
      const firstAt = items.findIndex((item) => item.userId === first.user.id);
      const secondAt = items.findIndex((item) => item.userId === second.user.id);
      expect(firstAt).toBeGreaterThan(-1);
      expect(secondAt).toBeGreaterThan(-1);
      expect(secondAt).toBeLessThan(firstAt);
      expect(items[secondAt]).toMatchObject({
        tenantId: second.tenant.id,
        tenantName: second.tenant.name,
        username: second.user.username,
        email: second.email,
        role: 'owner',
      });
      expect(JSON.stringify(response.body)).not.toMatch(/password|\$2[aby]\$/);
    });
  });

  describe('queries per page', () => {
    it('should run the same number of queries for a page of 1 and a page of 8', async () => {
      for (let i = 0; i < 8; i += 1) await register(http, { tenantName: unique('Paged') });
      const admin = ctx.app.get<DataSource>(getDataSourceToken('admin'));
      const spy = jest.spyOn(admin, 'query');
      const count = async (path: string): Promise<number> => {
        spy.mockClear();
        await get(path).expect(200);
        return spy.mock.calls.length;
      };
      try {
        for (const base of ['/api/v1/admin/citus/tenants', '/api/v1/admin/citus/shards']) {
          await count(`${base}?limit=1`); // warms the one-time Citus detection
          const small = await count(`${base}?limit=1`);
          const large = await count(`${base}?limit=8`);
          expect({ base, small, large }).toEqual({ base, small, large: small });
          expect(small).toBeLessThanOrEqual(4);
        }
      } finally {
        spy.mockRestore();
      }
    });
  });

  (citusMode ? describe.skip : describe)('on plain PostgreSQL', () => {
    it('should say citus: false, show what exists, and refuse the actions with 409', async () => {
      const nodes = await get('/api/v1/admin/citus/nodes').expect(200);
      expect(nodes.body).toMatchObject({
        citus: false,
        nodes: [{ role: 'standalone', healthy: true }],
      });
      const tables = await get('/api/v1/admin/citus/tables').expect(200);
      expect(tables.body.citus).toBe(false);
      expect(tables.body.tables.map((t: { name: string }) => t.name)).toEqual(
        expect.arrayContaining(['notes', 'tenants', 'users']),
      );
      const one = await get(`/api/v1/admin/citus/tenants/${tenant.owner.tenant.id}`).expect(200);
      expect(one.body).toMatchObject({
        citus: false,
        loadTracking: { enabled: false },
        tenant: { id: tenant.owner.tenant.id, shardId: null, node: null, users: 3, notes: 0 },
      });
      const isolate = await http()
        .post(`/api/v1/admin/citus/tenants/${tenant.owner.tenant.id}/isolate`)
        .set(...bearer(operator))
        .send({})
        .expect(409);
      expect(isolate.body.code).toBe('CITUS_REQUIRED');
      const rebalance = await http()
        .post('/api/v1/admin/citus/rebalance')
        .set(...bearer(operator))
        .expect(409);
      expect(rebalance.body.code).toBe('CITUS_REQUIRED');
    });
  });
});
