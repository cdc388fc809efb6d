import { Client } from 'pg';
import {
  bearer,
  describeCitus,
  Http,
  Member,
  operatorToken,
  tenantWithRoles,
  useTestApp,
} from './harness/e2e';
import { holdingClusterShape, SHAPE_TEST_TIMEOUT } from './harness/cluster-shape';

/** The admin views checked against the catalog itself, read on a superuser connection. */
describe('Admin views against ground truth (e2e)', () => {
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

    // The catalog and the API are read one after the other: held shared, so no other spec's
    // isolation (new shards) or rebalance (new placements) lands between the two reads.
    it(
      "[citus] should report each table's type, column, colocation and shard count as the catalog does",
      holdingClusterShape('read', async () => {
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
      }),
      SHAPE_TEST_TIMEOUT,
    );

    it(
      '[citus] should page through every placement of pg_dist_placement exactly once',
      holdingClusterShape('read', async () => {
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
      }),
      SHAPE_TEST_TIMEOUT,
    );

    it(
      '[citus] should place a tenant where get_shard_id_for_distribution_column says, with true counts',
      holdingClusterShape('read', async () => {
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
        // Citus counts per period (citus.stat_tenants_period, 60 s): one may end between the
        // writes above and this read, which moves their count to the last period.
        const { queriesThisPeriod, queriesLastPeriod } = response.body.tenant.load;
        expect(queriesThisPeriod + queriesLastPeriod).toBeGreaterThan(0);

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
      }),
      SHAPE_TEST_TIMEOUT,
    );

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
});
