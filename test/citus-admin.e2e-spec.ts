import { getDataSourceToken } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  bearer,
  citusMode,
  describeCitus,
  describeCitusCluster,
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

describe('CitusAdmin (e2e)', () => {
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

  /**
   * Users writing and reading notes in a loop until stopped, as a tenant's people would while an
   * operator reshapes the cluster. Returns every status and, per writer, the ids answered 201.
   */
  function startTraffic(lanes: Array<{ writer: Member; reader: Member; readIds: string[] }>) {
    let running = true;
    const statuses: number[] = [];
    const written = new Map<string, string[]>();
    const loops = lanes.map(async ({ writer, reader, readIds }) => {
      const ids: string[] = [];
      written.set(writer.user.id, ids);
      for (let i = 0; running; i += 1) {
        const created = await http()
          .post('/api/v1/notes')
          .set(...bearer(writer.token))
          .send({ content: `during ${i}` });
        statuses.push(created.status);
        if (created.status === 201) ids.push(created.body.id);
        const read = await http()
          .get(`/api/v1/notes/${readIds[i % readIds.length]}`)
          .set(...bearer(reader.token));
        statuses.push(read.status);
      }
    });
    return {
      stop: async () => {
        running = false;
        await Promise.all(loops);
        return { statuses, written };
      },
    };
  }

  async function allNoteIds(token: string): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } =
        await http()
          .get(`/api/v1/notes?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
          .set(...bearer(token))
          .expect(200);
      ids.push(...page.body.items.map((n) => n.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    return ids;
  }

  describe('operator login', () => {
    it('should issue an operator-scoped token', async () => {
      const response = await http().post('/api/v1/admin/auth/login').send(OPERATOR).expect(200);
      expect(response.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 3600,
      });
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

  describeCitus('[citus] against ground truth', () => {
    it('[citus] should list exactly the nodes of pg_dist_node, all healthy', async () => {
      const { rows } = await ctx.db.query(
        `SELECT nodeid, nodename, nodeport, groupid, isactive FROM pg_dist_node
          WHERE noderole = 'primary' ORDER BY nodeid`,
      );
      const response = await get('/api/v1/admin/citus/nodes').expect(200);
      expect(response.body.citus).toBe(true);
      expect(
        response.body.nodes.map(
          (n: { id: number; host: string; port: number; role: string; active: boolean }) => [
            n.id,
            n.host,
            n.port,
            n.role,
            n.active,
          ],
        ),
      ).toEqual(
        rows.map((r) => [
          r.nodeid,
          r.nodename,
          r.nodeport,
          r.groupid === 0 ? 'coordinator' : 'worker',
          r.isactive,
        ]),
      );
      expect(response.body.nodes.every((n: { healthy: boolean }) => n.healthy)).toBe(true);
    });

    it("[citus] should report each table's type, column, colocation and shard count as the catalog does", async () => {
      const { rows } = await ctx.db.query(
        `SELECT p.logicalrelid::text AS name, p.colocationid,
                CASE WHEN p.partkey IS NULL THEN NULL ELSE column_to_column_name(p.logicalrelid, p.partkey) END AS col,
                (SELECT count(*)::int FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards
           FROM pg_dist_partition p ORDER BY 1`,
      );
      const response = await get('/api/v1/admin/citus/tables').expect(200);
      expect(
        response.body.tables.map(
          (t: {
            name: string;
            distributionColumn: string | null;
            colocationId: number;
            shardCount: number;
          }) => [t.name, t.distributionColumn, t.colocationId, t.shardCount],
        ),
      ).toEqual(rows.map((r) => [r.name, r.col, r.colocationid, r.shards]));
    });

    it('[citus] should page through every placement of pg_dist_placement exactly once', async () => {
      const { rows } = await ctx.db.query(
        `SELECT p.placementid::text, p.shardid::text, n.nodeid
           FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
          ORDER BY p.placementid`,
      );
      const seen: Array<[string, string, number]> = [];
      let cursor: string | null = null;
      do {
        const page: {
          body: {
            items: Array<{ placementId: string; shardId: string; node: { id: number } }>;
            nextCursor: string | null;
          };
        } = await get(
          `/api/v1/admin/citus/shards?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        ).expect(200);
        seen.push(
          ...page.body.items.map((i): [string, string, number] => [
            i.placementId,
            i.shardId,
            i.node.id,
          ]),
        );
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(rows.map((r) => [r.placementid, r.shardid, r.nodeid]));

      const notesOnNode = await ctx.db.query(
        `SELECT count(*)::int AS n FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
          WHERE s.logicalrelid = 'notes'::regclass AND p.groupid = (SELECT groupid FROM pg_dist_node WHERE nodeid = $1)`,
        [seen[seen.length - 1][2]],
      );
      const filtered = await get(
        `/api/v1/admin/citus/shards?table=notes&node=${seen[seen.length - 1][2]}&limit=100`,
      ).expect(200);
      expect(filtered.body.items).toHaveLength(notesOnNode.rows[0].n);
      expect(filtered.body.items.every((i: { table: string }) => i.table === 'notes')).toBe(true);
      const unknown = await get('/api/v1/admin/citus/shards?table=secrets').expect(400);
      expect(unknown.body.message).toContain('table must be one of');
    });

    it('[citus] should place a tenant where get_shard_id_for_distribution_column says, with true counts', async () => {
      const owner = tenant.owner;
      for (const content of ['a', 'b', 'c']) {
        await http()
          .post('/api/v1/notes')
          .set(...bearer(owner.token))
          .send({ content })
          .expect(201);
      }
      const truth = await ctx.db.query(
        `SELECT s.shardid::text, n.nodeid, n.nodename, n.nodeport,
                (SELECT count(*)::int FROM users WHERE tenant_id = $1) AS users,
                (SELECT count(*)::int FROM notes WHERE tenant_id = $1) AS notes
           FROM pg_dist_shard s
           JOIN pg_dist_placement p ON p.shardid = s.shardid
           JOIN pg_dist_node n ON n.groupid = p.groupid
          WHERE s.shardid = get_shard_id_for_distribution_column('users', $1::bigint)`,
        [owner.tenant.id],
      );
      const expected = truth.rows[0];
      const response = await get(`/api/v1/admin/citus/tenants/${owner.tenant.id}`).expect(200);
      expect(response.body).toMatchObject({
        citus: true,
        loadTracking: { enabled: true, setting: 'all' },
        tenant: {
          id: owner.tenant.id,
          name: owner.tenant.name,
          shardId: expected.shardid,
          node: { id: expected.nodeid, host: expected.nodename, port: expected.nodeport },
          users: expected.users,
          notes: expected.notes,
        },
      });
      expect(expected).toMatchObject({ users: 3, notes: 3 });
      expect(response.body.tenant.load).toEqual(
        expect.objectContaining({ queriesThisPeriod: expect.any(Number) }),
      );
      expect(response.body.tenant.load.queriesThisPeriod).toBeGreaterThan(0);

      let cursor: string | null = null;
      let listed: { id: string; shardId: string } | undefined;
      do {
        const page: {
          body: { items: Array<{ id: string; shardId: string }>; nextCursor: string | null };
        } = await get(
          `/api/v1/admin/citus/tenants?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        ).expect(200);
        listed = listed ?? page.body.items.find((item) => item.id === owner.tenant.id);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(listed).toMatchObject({ id: owner.tenant.id, shardId: expected.shardid });
    });

    it('[citus] should show a running query from another session but not its own monitoring query', async () => {
      const other = new Client({ connectionString: process.env.E2E_DATABASE_URL });
      await other.connect();
      try {
        const sleeping = other.query(`SELECT pg_sleep(3) /* admin-activity-probe */`);
        let found: Array<{ query: string; state: string; node: { id: number } | null }> = [];
        for (let i = 0; i < 20 && found.length === 0; i += 1) {
          const response = await get('/api/v1/admin/citus/activity').expect(200);
          found = response.body.activity.filter((a: { query: string }) =>
            a.query.includes('admin-activity-probe'),
          );
          expect(
            response.body.activity.some((a: { query: string }) =>
              a.query.includes('citus_stat_activity'),
            ),
          ).toBe(false);
          if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(found[0]).toMatchObject({ state: 'active', node: { id: expect.any(Number) } });
        await sleeping;
      } finally {
        await other.end();
      }
    });
  });

  describeCitusCluster('[citus] tenant isolation and rebalancing', () => {
    it('[citus] should isolate a busy tenant onto its own shard and node while its users keep working', async () => {
      const { owner, member } = await tenantWithRoles(http);
      const before: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const note = await http()
          .post('/api/v1/notes')
          .set(...bearer(member.token))
          .send({ content: `before ${i}` })
          .expect(201);
        before.push(note.body.id);
      }
      const placement = await get(`/api/v1/admin/citus/tenants/${owner.tenant.id}`).expect(200);
      const nodes = await get('/api/v1/admin/citus/nodes').expect(200);
      const target = nodes.body.nodes.find(
        (n: { id: number; role: string }) =>
          n.role === 'worker' && n.id !== placement.body.tenant.node.id,
      );

      // Traffic from the tenant's users runs during the split and the move.
      const traffic = startTraffic([{ writer: member, reader: owner, readIds: before }]);
      const response = await http()
        .post(`/api/v1/admin/citus/tenants/${owner.tenant.id}/isolate`)
        .set(...bearer(operator))
        .send({ targetNodeId: target.id });
      const { statuses, written } = await traffic.stop();

      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        tenantId: owner.tenant.id,
        previousShardId: placement.body.tenant.shardId,
        previousNode: placement.body.tenant.node,
        node: { id: target.id },
        moved: true,
      });
      expect(response.body.shardId).not.toBe(placement.body.tenant.shardId);
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((status) => status === 200 || status === 201)).toBe(true);

      // Ground truth: every colocated table has a one-value shard for this tenant on the target.
      const truth = await ctx.db.query(
        `SELECT t.name, s.shardid::text, s.shardminvalue = s.shardmaxvalue AS single, n.nodeid
           FROM (VALUES ('users'), ('notes'), ('invitations')) AS t(name)
           JOIN pg_dist_shard s ON s.shardid = get_shard_id_for_distribution_column(t.name, $1::bigint)
           JOIN pg_dist_placement p ON p.shardid = s.shardid
           JOIN pg_dist_node n ON n.groupid = p.groupid`,
        [owner.tenant.id],
      );
      expect(truth.rows).toHaveLength(3);
      expect(truth.rows.every((r) => r.single === true && r.nodeid === target.id)).toBe(true);
      expect(truth.rows.find((r) => r.name === 'users')?.shardid).toBe(response.body.shardId);
      const tenantsInShard = await ctx.db.query(
        `SELECT count(DISTINCT tenant_id)::int AS n FROM notes
          WHERE get_shard_id_for_distribution_column('notes', tenant_id) =
                get_shard_id_for_distribution_column('notes', $1::bigint)`,
        [owner.tenant.id],
      );
      expect(tenantsInShard.rows[0].n).toBe(1);

      // Everything written before and during is readable, and writing goes on.
      const ids = await allNoteIds(owner.token);
      const missingIds = [...before, ...(written.get(member.user.id) ?? [])].filter(
        (id) => !ids.includes(id),
      );
      if (missingIds.length > 0) {
        const visible = await ctx.db.query(
          'SELECT id::text, tenant_id::text FROM notes WHERE id = ANY($1::bigint[])',
          [missingIds],
        );
        const everywhere = await ctx.db.query(
          `SELECT nodeid, success, result FROM run_command_on_all_nodes($$
             SELECT string_agg(format('%s:%s', c.relname, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I WHERE id = ANY(ARRAY[${missingIds.join(',')}]::bigint[])', c.relname), false, true, '')))[1]::text), ',')
               FROM pg_class c WHERE c.relname ~ '^notes_[0-9]+$' AND c.relkind = 'r'
           $$)`,
        );
        console.log(
          'DIAG missing',
          missingIds,
          'visible',
          visible.rows,
          'shards',
          JSON.stringify(everywhere.rows),
        );
      }
      expect(ids.sort()).toEqual([...before, ...(written.get(member.user.id) ?? [])].sort());
      await http()
        .post('/api/v1/notes')
        .set(...bearer(member.token))
        .send({ content: 'after' })
        .expect(201);

      const again = await http()
        .post(`/api/v1/admin/citus/tenants/${owner.tenant.id}/isolate`)
        .set(...bearer(operator))
        .send({})
        .expect(409);
      expect(again.body.code).toBe('ALREADY_ISOLATED');
      const detail = await get(`/api/v1/admin/citus/tenants/${owner.tenant.id}`).expect(200);
      expect(detail.body.tenant).toMatchObject({
        isolated: true,
        shardId: response.body.shardId,
        node: { id: target.id },
      });

      const badTarget = await http()
        .post(`/api/v1/admin/citus/tenants/${tenant.member.tenant.id}/isolate`)
        .set(...bearer(operator))
        .send({ targetNodeId: 999999 })
        .expect(400);
      expect(badTarget.body.message).toContain('targetNodeId must be an active node');
    });

    it('[citus] should start a background rebalance that evens out shards moved onto one worker', async () => {
      const workers = (await get('/api/v1/admin/citus/nodes').expect(200)).body.nodes.filter(
        (n: { role: string }) => n.role === 'worker',
      );
      const [from, to] = workers as Array<{ id: number; host: string; port: number }>;
      const perNode = async (): Promise<Map<number, number>> => {
        const { rows } = await ctx.db.query(
          `SELECT n.nodeid, count(*)::int AS n FROM pg_dist_shard s
             JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n ON n.groupid = p.groupid
            WHERE s.logicalrelid = 'users'::regclass GROUP BY n.nodeid`,
        );
        return new Map(rows.map((r) => [r.nodeid, r.n]));
      };
      // Unbalance the cluster by hand (ground-truth side), then let the service fix it.
      const movable = await ctx.db.query(
        `SELECT s.shardid FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
          WHERE s.logicalrelid = 'users'::regclass AND p.groupid = (SELECT groupid FROM pg_dist_node WHERE nodeid = $1)
            AND s.shardminvalue <> s.shardmaxvalue
          ORDER BY s.shardid LIMIT 3`,
        [from.id],
      );
      for (const { shardid } of movable.rows) {
        await ctx.db.query(`SELECT citus_move_shard_placement($1, $2, $3, $4, $5)`, [
          shardid,
          from.host,
          from.port,
          to.host,
          to.port,
        ]);
      }
      const skewed = await perNode();
      const skew = Math.abs((skewed.get(from.id) ?? 0) - (skewed.get(to.id) ?? 0));
      expect(skew).toBeGreaterThanOrEqual(4);

      // Several tenants keep writing while shards move; none of their acknowledged writes may go.
      const lanes = await Promise.all(
        [0, 1, 2, 3].map(async () => {
          const { owner } = await tenantWithRoles(http);
          const first = await http()
            .post('/api/v1/notes')
            .set(...bearer(owner.token))
            .send({ content: 'first' })
            .expect(201);
          return { writer: owner, reader: owner, readIds: [first.body.id as string] };
        }),
      );
      const traffic = startTraffic(lanes);
      const started = await http()
        .post('/api/v1/admin/citus/rebalance')
        .set(...bearer(operator))
        .expect(202);
      expect(started.body).toMatchObject({ jobId: expect.stringMatching(/^\d+$/) });
      let state = started.body.state as string;
      for (let i = 0; i < 120 && !['finished', 'failed', 'cancelled'].includes(state); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const status = await get('/api/v1/admin/citus/rebalance').expect(200);
        expect(status.body.jobId).toBe(started.body.jobId);
        state = status.body.state;
      }
      const { statuses, written } = await traffic.stop();
      expect(state).toBe('finished');
      expect(statuses.every((status) => status === 200 || status === 201)).toBe(true);
      for (const lane of lanes) {
        const ids = await allNoteIds(lane.writer.token);
        expect(ids.sort()).toEqual(
          [...lane.readIds, ...(written.get(lane.writer.user.id) ?? [])].sort(),
        );
      }
      const balanced = await perNode();
      expect(Math.abs((balanced.get(from.id) ?? 0) - (balanced.get(to.id) ?? 0))).toBeLessThan(
        skew,
      );
    });
  });
});
