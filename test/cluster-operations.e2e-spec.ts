import {
  bearer,
  describeCitusCluster,
  Http,
  Member,
  operatorToken,
  tenantWithRoles,
  useTestApp,
} from './harness/e2e';
import { holdingClusterShape, SHAPE_TEST_TIMEOUT } from './harness/cluster-shape';
import { allNoteIds, startTraffic } from './harness/traffic';

/** Reshaping the cluster while tenants keep working: nothing acknowledged may be lost. */
describe('Cluster operations under traffic (e2e)', () => {
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

  describeCitusCluster('[citus] tenant isolation and rebalancing', () => {
    it(
      '[citus] should isolate a busy tenant onto its own shard and node while its users keep working',
      holdingClusterShape('change', async () => {
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
        const traffic = startTraffic(http, [{ writer: member, reader: owner, readIds: before }]);
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
        const ids = await allNoteIds(http, owner.token);
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
      }),
      SHAPE_TEST_TIMEOUT,
    );

    it(
      '[citus] should start a background rebalance that evens out shards moved onto one worker',
      holdingClusterShape('change', async () => {
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
        const traffic = startTraffic(http, lanes);
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
          const ids = await allNoteIds(http, lane.writer.token);
          expect(ids.sort()).toEqual(
            [...lane.readIds, ...(written.get(lane.writer.user.id) ?? [])].sort(),
          );
        }
        const balanced = await perNode();
        expect(Math.abs((balanced.get(from.id) ?? 0) - (balanced.get(to.id) ?? 0))).toBeLessThan(
          skew,
        );
      }),
      SHAPE_TEST_TIMEOUT,
    );

    it(
      '[citus] should answer 409, never 500, to operator actions started at the same moment',
      holdingClusterShape('change', async () => {
        // A double click, or two operators: three isolations of one tenant at once.
        const { owner } = await tenantWithRoles(http);
        const isolations = await Promise.all(
          [1, 2, 3].map(() =>
            http()
              .post(`/api/v1/admin/citus/tenants/${owner.tenant.id}/isolate`)
              .set(...bearer(operator))
              .send({}),
          ),
        );
        const outcomes = isolations.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()).sort();
        expect(outcomes.filter((o) => o === '200')).toHaveLength(1);
        for (const outcome of outcomes.filter((o) => o !== '200')) {
          expect(['409 OPERATION_RUNNING', '409 ALREADY_ISOLATED']).toContain(outcome);
        }

        // Three rebalances at once: at most one starts, the others are told why not.
        const starts = await Promise.all(
          [1, 2, 3].map(() =>
            http()
              .post('/api/v1/admin/citus/rebalance')
              .set(...bearer(operator)),
          ),
        );
        for (const start of starts) {
          expect([200, 202, 409]).toContain(start.status);
          if (start.status === 409) {
            expect(['OPERATION_RUNNING', 'REBALANCE_RUNNING']).toContain(start.body.code);
          }
        }
        expect(starts.filter((start) => start.status === 202).length).toBeLessThanOrEqual(1);
        // Leave the cluster idle for the next spec.
        let state = 'running';
        for (
          let i = 0;
          i < 240 && ['scheduled', 'running', 'cancelling', 'failing'].includes(state);
          i += 1
        ) {
          state = (await get('/api/v1/admin/citus/rebalance').expect(200)).body.state as string;
          if (['scheduled', 'running', 'cancelling', 'failing'].includes(state)) {
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
      }),
      SHAPE_TEST_TIMEOUT,
    );
  });
});
