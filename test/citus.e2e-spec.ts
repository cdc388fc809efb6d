import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { bearer, citusMode, describeCitus, Http, login, register, useTestApp } from './harness/e2e';

// A single-node Citus (the testcontainers image) keeps every shard on the coordinator.
const itOnCluster = Number(process.env.E2E_CITUS_WORKERS) >= 2 ? it : it.skip;

const MULTI_SHARD_REFUSED = /multi-task query about to be executed/;

function taskCount(plan: Array<Record<string, string>>): number {
  const line = plan.map((row) => Object.values(row)[0]).find((text) => /Task Count:/.test(text));
  if (!line) throw new Error(`no Task Count in plan:\n${JSON.stringify(plan)}`);
  return Number(/Task Count: (\d+)/.exec(line)?.[1]);
}

describe('Data distribution (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  describeCitus('[citus] schema distribution', () => {
    it('[citus] should make tenants a reference table and colocate users, notes and invitations by tenant_id', async () => {
      const { rows } = await ctx.db.query(`
        SELECT logicalrelid::text AS table,
               partmethod,
               CASE WHEN partkey IS NULL THEN NULL
                    ELSE column_to_column_name(logicalrelid, partkey) END AS column,
               colocationid
          FROM pg_dist_partition
         WHERE logicalrelid::text IN
               ('tenants', 'users', 'notes', 'invitations', 'login_directory', 'operators',
                'accounts', 'email_tokens', 'sessions')`);
      const byTable = Object.fromEntries(rows.map((row) => [row.table, row]));
      // operators is absent on purpose: a small coordinator-local table outside every tenant.
      expect(Object.keys(byTable).sort()).toEqual([
        'accounts',
        'email_tokens',
        'invitations',
        'login_directory',
        'notes',
        'sessions',
        'tenants',
        'users',
      ]);
      expect(byTable.tenants).toMatchObject({ partmethod: 'n', column: null });
      for (const table of ['users', 'notes', 'invitations', 'sessions']) {
        expect(byTable[table]).toMatchObject({ partmethod: 'h', column: 'tenant_id' });
        expect(byTable[table].colocationid).toBe(byTable.users.colocationid);
      }
      expect(byTable.login_directory).toMatchObject({ partmethod: 'h', column: 'email' });
      expect(byTable.login_directory.colocationid).not.toBe(byTable.users.colocationid);
      // An account, its memberships and its mailed tokens share one shard: login is one query.
      for (const table of ['accounts', 'email_tokens']) {
        expect(byTable[table]).toMatchObject({ partmethod: 'h', column: 'email' });
        expect(byTable[table].colocationid).toBe(byTable.login_directory.colocationid);
      }

      const view = await ctx.db.query(
        `SELECT table_name::text, citus_table_type FROM citus_tables ORDER BY 1`,
      );
      expect(view.rows).toEqual(
        expect.arrayContaining([
          { table_name: 'tenants', citus_table_type: 'reference' },
          { table_name: 'users', citus_table_type: 'distributed' },
          { table_name: 'notes', citus_table_type: 'distributed' },
        ]),
      );
    });

    itOnCluster(
      "[citus] should spread shards over the workers and keep a tenant's users and notes on one node",
      async () => {
        const member = await register(http);
        const nodes = await ctx.db.query(`
        SELECT DISTINCT n.nodename, n.nodeport
          FROM pg_dist_shard s
          JOIN pg_dist_placement p USING (shardid)
          JOIN pg_dist_node n USING (groupid)
         WHERE s.logicalrelid = 'notes'::regclass`);
        expect(nodes.rows.length).toBe(Number(process.env.E2E_CITUS_WORKERS));
        expect(nodes.rows.length).toBeGreaterThanOrEqual(2);

        const placement = await ctx.db.query(
          `SELECT t.table_name, n.nodeport
           FROM (VALUES ('users'), ('notes'), ('invitations')) AS t(table_name)
           JOIN pg_dist_placement p
             ON p.shardid = get_shard_id_for_distribution_column(t.table_name, $1::bigint)
           JOIN pg_dist_node n USING (groupid)`,
          [member.tenant.id],
        );
        expect(placement.rows).toHaveLength(3);
        expect(new Set(placement.rows.map((row) => row.nodeport)).size).toBe(1);
      },
    );
  });

  describeCitus('[citus] single-shard routing', () => {
    it('[citus] should run the app on a connection that refuses multi-shard queries', async () => {
      const dataSource = ctx.app.get(DataSource);
      const setting: Array<Record<string, string>> = await dataSource.query(
        'SHOW citus.multi_task_query_log_level',
      );
      expect(Object.values(setting[0])[0]).toBe('error');
      await expect(dataSource.query('SELECT count(*) FROM notes')).rejects.toThrow(
        MULTI_SHARD_REFUSED,
      );
    });

    it('[citus] should find a login with one shard, where a users scan would touch every shard', async () => {
      const member = await register(http);
      const directory = await ctx.db.query(
        `EXPLAIN SELECT tenant_id, user_id FROM login_directory WHERE email = '${member.email}'`,
      );
      expect(taskCount(directory.rows)).toBe(1);
      const scan = await ctx.db.query(
        `EXPLAIN SELECT tenant_id, id FROM users WHERE email = '${member.email}'`,
      );
      expect(taskCount(scan.rows)).toBeGreaterThan(1);
    });

    it('[citus] should stay single-shard after the planner switches to generic plans', async () => {
      const member = await register(http);
      const note = await http()
        .post('/api/v1/notes')
        .set(...bearer(member.token))
        .send({ content: 'routed' })
        .expect(201);
      // Through the app (node-postgres' unnamed statements) and through a named prepared statement.
      for (let i = 0; i < 8; i += 1) {
        await http()
          .get(`/api/v1/notes/${note.body.id}`)
          .set(...bearer(member.token))
          .expect(200);
        await http()
          .get('/api/v1/notes?limit=5')
          .set(...bearer(member.token))
          .expect(200);
        await login(http, member.email, undefined, member.tenant.id);
      }
      const client = new Client({ connectionString: process.env.E2E_APP_DATABASE_URL });
      await client.connect();
      try {
        for (let i = 0; i < 8; i += 1) {
          const result = await client.query({
            name: 'note_by_id',
            text: 'SELECT id FROM notes WHERE tenant_id = $1 AND id = $2',
            values: [member.tenant.id, note.body.id],
          });
          expect(result.rows).toHaveLength(1);
        }
        await expect(
          client.query({
            name: 'unscoped',
            text: 'SELECT id FROM notes WHERE id = $1',
            values: [note.body.id],
          }),
        ).rejects.toThrow(MULTI_SHARD_REFUSED);
      } finally {
        await client.end();
      }
    });
  });

  (citusMode ? describe.skip : describe)('plain PostgreSQL', () => {
    it('should have run the same migrations without Citus', async () => {
      const extension = await ctx.db.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
      expect(extension.rows).toHaveLength(0);
      const tables = await ctx.db.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'typeorm_migrations' ORDER BY 1`,
      );
      expect(tables.rows.map((row) => row.tablename)).toEqual([
        'accounts',
        'email_tokens',
        'invitations',
        'login_directory',
        'notes',
        'operators',
        'sessions',
        'tenants',
        'users',
      ]);
    });
  });
});
