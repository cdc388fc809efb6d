import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { InitialSchema1795700000000 } from '../migrations/1795700000000-InitialSchema';
import { Operators1795710000000 } from '../migrations/1795710000000-Operators';
import { AccountsAndSessions1795720000000 } from '../migrations/1795720000000-AccountsAndSessions';
import { NameKeys1795730000000 } from '../migrations/1795730000000-NameKeys';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { nameKey } from '../src/names/names';
import {
  bearer,
  citusMode,
  Http,
  invite,
  operatorToken,
  PASSWORD,
  register,
  unique,
  useTestApp,
  verifyEmail,
} from './harness/e2e';
import { migrationLogs } from './harness/migration-logger';

/** A suffix of hex digits: two of them never look alike (0 and 1 look like o and l, not hex). */
const hex = (): string => randomBytes(4).toString('hex');

/** Characters that made a name look like another one before the rules; all refused now. */
const INVISIBLE: Array<[string, (name: string) => string, string]> = [
  ['a zero-width space', (name) => `${name.slice(0, 2)}\u200b${name.slice(2)}`, 'U+200B'],
  ['a zero-width joiner at the end', (name) => `${name}\u200d`, 'U+200D'],
  ['a byte order mark', (name) => `\ufeff${name}`, 'U+FEFF'],
  ['a right-to-left override', (name) => `\u202e${name}`, 'U+202E'],
  ['a right-to-left isolate', (name) => `\u2067${name}\u2069`, 'U+2067'],
  ['a left-to-right mark', (name) => `${name}\u200e`, 'U+200E'],
  ['a control character', (name) => `${name}\u0007`, 'U+0007'],
  ['a trailing line feed', (name) => `${name}\n`, 'U+000A'],
  ['a Hangul filler', (name) => `${name}\u3164`, 'U+1160'],
];

describe('Names people can trust (e2e)', () => {
  const ctx = useTestApp();
  const http = (): Http => ctx.http();

  const registration = (values: { tenantName: string; username?: string; inviteCode?: string }) =>
    http()
      .post('/api/v1/auth/register')
      .send({
        username: unique('user'),
        email: `${unique('names')}@example.com`,
        password: PASSWORD,
        ...values,
      });

  describe('tenant names', () => {
    let acme: string;

    beforeAll(async () => {
      acme = `Acme ${hex()}`;
      await registration({ tenantName: acme }).expect(201);
    });

    it.each(INVISIBLE)(
      'should refuse the name with %s with a 400 naming the field, creating nothing',
      async (_, disguise, code) => {
        const tenantName = disguise(acme);
        const response = await registration({ tenantName }).expect(400);
        expect(response.body.code).toBe('VALIDATION_FAILED');
        expect(response.body.message).toContain(
          `tenantName must not contain control, format, invisible or unassigned characters (found ${code})`,
        );
        const { rows } = await ctx.db.query('SELECT 1 FROM tenants WHERE name = $1', [tenantName]);
        expect(rows).toHaveLength(0);
      },
    );

    it.each([
      [
        'a Cyrillic look-alike',
        (name: string) => name.replace('A', '\u0410').replace('c', '\u0441'),
      ],
      ['Greek and Cyrillic capitals', (name: string) => `\u0391\u0421\u039c\u0395${name.slice(4)}`],
      ['a case variant', (name: string) => name.toUpperCase()],
      ['an accented variant', (name: string) => name.replace('e', 'é')],
      ['a fullwidth variant', (name: string) => name.replace('Acme', 'Ａｃｍｅ')],
      ['rn for the m', (name: string) => name.replace('m', 'rn')],
      ['more spaces', (name: string) => `  ${name.replace(' ', '\u00a0\u3000 ')} `],
    ])('should answer %s of a taken name with 409 TENANT_NAME_TAKEN', async (_, lookAlike) => {
      const tenantName = lookAlike(acme);
      const response = await registration({ tenantName }).expect(409);
      expect(response.body.code).toBe('TENANT_NAME_TAKEN');
      const { rows } = await ctx.db.query('SELECT name FROM tenants WHERE name_key = $1', [
        nameKey(acme),
      ]);
      expect(rows).toEqual([{ name: acme }]);
    });

    it('should store a fullwidth name in NFKC form, spaces collapsed, and show it so to operators', async () => {
      const suffix = hex();
      const response = await registration({
        tenantName: ` Ａｃｍｅ\u00a0\u00a0Ｌｔｄ ${suffix} `,
      }).expect(201);
      const stored = `Acme Ltd ${suffix}`;
      expect(response.body.tenant.name).toBe(stored);
      const { rows } = await ctx.db.query('SELECT name, name_key FROM tenants WHERE id = $1', [
        response.body.tenant.id,
      ]);
      expect(rows).toEqual([{ name: stored, name_key: nameKey(stored) }]);

      const admin = await http()
        .get('/api/v1/admin/registrations?limit=100')
        .set(...bearer(await operatorToken(http)))
        .expect(200);
      const listed = admin.body.items.find(
        (item: { tenantId: string }) => item.tenantId === response.body.tenant.id,
      );
      expect(listed.tenantName).toBe(stored);
    });

    it('should let only one of two look-alike names registered at once through', async () => {
      const name = `Globex ${hex()}`;
      const responses = await Promise.all([
        registration({ tenantName: name }),
        registration({ tenantName: name.replace('o', '\u043e').replace('e', '\u0435') }),
      ]);
      expect(responses.map((response) => response.status).sort()).toEqual([201, 409]);
      expect(responses.find((response) => response.status === 409)?.body.code).toBe(
        'TENANT_NAME_TAKEN',
      );
    });

    it('should refuse a second look-alike row in the database itself', async () => {
      const name = `Initech ${hex()}`;
      await ctx.db.query('INSERT INTO tenants (name, name_key) VALUES ($1, $2)', [
        name,
        nameKey(name),
      ]);
      const error = await ctx.db
        .query('INSERT INTO tenants (name, name_key) VALUES ($1, $2)', [
          name.toUpperCase(),
          nameKey(name.toUpperCase()),
        ])
        .catch((caught: unknown) => caught);
      // On Citus the constraint is named after the shard: tenants_name_key_key_102008.
      expect(error).toMatchObject({ code: '23505' });
      expect(String((error as Error).message)).toContain('tenants_name_key_key');
    });

    it('should join the tenant a look-alike of its name names, with its invitation', async () => {
      const owner = await register(http, { tenantName: `Hooli ${hex()}` });
      const code = await invite(http, owner.token);
      const refused = await registration({
        tenantName: `${owner.tenant.name}\u200b`,
        inviteCode: code,
      }).expect(400);
      expect(refused.body.message).toContain('tenantName must not contain');
      const joined = await registration({
        tenantName: owner.tenant.name.toUpperCase(),
        inviteCode: code,
      }).expect(201);
      expect(joined.body.tenant).toMatchObject({ id: owner.tenant.id, name: owner.tenant.name });
    });

    it('should choose the tenant of a login by a name that looks the same', async () => {
      const email = `${unique('choice')}@example.com`;
      const first = await register(http, { email, tenantName: `Umbrella ${hex()}` });
      await verifyEmail(http, email);
      const second = await register(http, { email, tenantName: `Umbrella ${hex()}` });
      const choice = await http()
        .post('/api/v1/auth/login')
        .send({ email, password: PASSWORD })
        .expect(409);
      expect(choice.body.code).toBe('TENANT_CHOICE_REQUIRED');
      const lookAlike = second.tenant.name.toUpperCase().replace('U', 'Ｕ');
      const chosen = await http()
        .post('/api/v1/auth/login')
        .send({ email, password: PASSWORD, tenant: lookAlike })
        .expect(200);
      expect(chosen.body.tenant.id).toBe(second.tenant.id);
      expect(chosen.body.tenant.id).not.toBe(first.tenant.id);
    });
  });

  describe('usernames', () => {
    let owner: Awaited<ReturnType<typeof register>>;
    let code: string;
    let username: string;

    beforeAll(async () => {
      username = `lily-${hex()}`;
      owner = await register(http, { username });
      code = await invite(http, owner.token);
    });

    const join = (name: string) =>
      registration({ tenantName: owner.tenant.name, username: name, inviteCode: code });

    it.each(INVISIBLE)(
      'should refuse a username with %s with a 400 naming the field',
      async (_, disguise, found) => {
        const response = await join(disguise(username)).expect(400);
        expect(response.body.message).toContain(
          `username must not contain control, format, invisible or unassigned characters (found ${found})`,
        );
      },
    );

    it('should refuse a Cyrillic look-alike: usernames are a-z 0-9 _ . - only', async () => {
      const response = await join(username.replace('l', '\u04cf')).expect(400);
      expect(response.body.message).toContain('username must be 3 to 32 characters');
    });

    it.each([
      ['a case variant', (name: string) => name.toUpperCase()],
      ['the digit one for an l', (name: string) => name.replace('l', '1')],
      ['an i for an l', (name: string) => name.replace('l', 'i')],
      ['a fullwidth variant', (name: string) => name.replace('lily', 'ｌｉｌｙ')],
    ])('should answer %s of a taken username with 409 USERNAME_TAKEN', async (_, lookAlike) => {
      const response = await join(lookAlike(username)).expect(409);
      expect(response.body.code).toBe('USERNAME_TAKEN');
      const { rows } = await ctx.db.query(
        'SELECT username FROM users WHERE tenant_id = $1 AND username_key = $2',
        [owner.tenant.id, nameKey(username)],
      );
      expect(rows).toEqual([{ username }]);
    });

    it('should allow the same username in another tenant, and store a fullwidth one in NFKC form', async () => {
      const elsewhere = await registration({
        tenantName: `Wayne ${hex()}`,
        username: username.replace('lily', 'ＬＩＬＹ'),
      }).expect(201);
      expect(elsewhere.body.user.username).toBe(username);
      const { rows } = await ctx.db.query(
        'SELECT username, username_key FROM users WHERE tenant_id = $1',
        [elsewhere.body.tenant.id],
      );
      expect(rows).toEqual([{ username, username_key: nameKey(username) }]);
    });

    it('should refuse a second look-alike username in the database itself', async () => {
      const error = await ctx.db
        .query(
          `INSERT INTO users (tenant_id, username, username_key, email, role)
           VALUES ($1, $2, $3, $4, 'member')`,
          [owner.tenant.id, username.replace('l', '1'), nameKey(username), 'other@example.com'],
        )
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: '23505' });
      expect(String((error as Error).message)).toContain('users_username_key_key');
    });
  });

  /**
   * The NameKeys migration on names stored before it, in a database of its own on the test
   * server: plain PostgreSQL, or on Citus a single-node Citus (the coordinator holds the shards),
   * so the statements run on data through Citus' planner without touching the suite's cluster.
   */
  describe('NameKeys migration on existing names', () => {
    const database = `names_${process.pid}_${Date.now()}`;
    const admin = new Client({ connectionString: process.env.E2E_DATABASE_URL });
    const logs: string[] = [];
    let url: string;

    const logger = migrationLogs(logs);
    const BEFORE = [
      InitialSchema1795700000000,
      Operators1795710000000,
      AccountsAndSessions1795720000000,
    ];
    const dataSource = (migrations: Array<new () => object>) =>
      new DataSource({
        ...buildDataSourceOptions({ url }),
        migrations,
        logging: ['migration'],
        logger,
      });

    beforeAll(async () => {
      await admin.connect();
      await admin.query(`CREATE DATABASE "${database}"`);
      const parsed = new URL(process.env.E2E_DATABASE_URL ?? '');
      parsed.pathname = `/${database}`;
      parsed.search = '';
      url = parsed.toString();
      const setup = new Client({ connectionString: url });
      await setup.connect();
      try {
        if (citusMode) {
          await setup.query('CREATE EXTENSION citus');
          const [host, port] = [parsed.hostname, Number(parsed.port || 5432)];
          await setup.query('SELECT citus_set_coordinator_host($1, $2)', [host, port]);
          await setup.query(`SELECT citus_set_node_property($1, $2, 'shouldhaveshards', true)`, [
            host,
            port,
          ]);
        }
      } finally {
        await setup.end();
      }
      const before = dataSource(BEFORE);
      await before.initialize();
      await before.runMigrations({ transaction: 'each' });
      await before.destroy();
    });

    afterAll(async () => {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    });

    /** Stored tenants (id, name, days ago) and users (tenant, id, username, days ago). */
    async function seed(
      tenants: Array<[number, string, number]>,
      users: Array<[number, number, string, number]> = [],
    ): Promise<void> {
      const db = dataSource([]);
      await db.initialize();
      try {
        await db.query('TRUNCATE tenants, users, login_directory, notes, invitations CASCADE');
        for (const [id, name, age] of tenants) {
          await db.query(
            `INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, now() - $3 * interval '1 day')`,
            [id, name, age],
          );
        }
        for (const [tenant, id, username, age] of users) {
          await db.query(
            `INSERT INTO users (tenant_id, id, username, email, role, created_at)
             VALUES ($1, $2, $3, $4, 'member', now() - $5 * interval '1 day')`,
            [tenant, id, username, `u${id}@example.com`, age],
          );
        }
      } finally {
        await db.destroy();
      }
    }

    it('should stop when a renamed name still looks like another, naming the rows, changing nothing', async () => {
      await seed([
        [1, 'Acme', 3],
        [3, 'Acme\u200b', 1],
        [2, 'Acme (3)', 2],
      ]);
      const db = dataSource([...BEFORE, NameKeys1795730000000]);
      await db.initialize();
      try {
        await expect(db.runMigrations({ transaction: 'each' })).rejects.toThrow(
          'tenant 3: renamed to tell it apart from tenant 1, its name still looks like the name of tenant 2',
        );
        const names = await db.query('SELECT id::int, name FROM tenants ORDER BY id');
        expect(names).toEqual([
          { id: 1, name: 'Acme' },
          { id: 2, name: 'Acme (3)' },
          { id: 3, name: 'Acme\u200b' },
        ]);
        const columns = await db.query(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'tenants'`,
        );
        expect(columns.map((c: { column_name: string }) => c.column_name)).not.toContain(
          'name_key',
        );
      } finally {
        await db.destroy();
      }
    });

    it('should clean names, keep the oldest of look-alikes, rename the later ones, and revert', async () => {
      await seed(
        [
          [1, 'Acme', 9],
          [2, 'Acme\u200b', 8],
          [3, '\u0410\u0441me', 7],
          [4, '\u202eGlobex', 6],
          [5, 'Ｉｎｉｔｅｃｈ\u00a0\u00a0Ltd', 5],
          [6, '\u200b\u200b', 4],
          [7, 'Hooli', 3],
        ],
        [
          [1, 10, 'alice', 3],
          [1, 11, 'a1ice', 2],
          [1, 12, 'bob', 1],
          [2, 20, 'alice', 1],
        ],
      );
      logs.length = 0;
      const db = dataSource([...BEFORE, NameKeys1795730000000]);
      await db.initialize();
      try {
        await db.runMigrations({ transaction: 'each' });
        if (citusMode) {
          // The Citus path ran: users is distributed, tenants a reference table, in this database.
          const kinds = await db.query(
            `SELECT logicalrelid::text AS table, partmethod FROM pg_dist_partition
              WHERE logicalrelid::text IN ('tenants', 'users') ORDER BY 1`,
          );
          expect(kinds).toEqual([
            { table: 'tenants', partmethod: 'n' },
            { table: 'users', partmethod: 'h' },
          ]);
        }
        const expectedTenants = [
          { id: 1, name: 'Acme' },
          { id: 2, name: 'Acme (2)' },
          { id: 3, name: '\u0410\u0441me (3)' },
          { id: 4, name: 'Globex' },
          { id: 5, name: 'Initech Ltd' },
          { id: 6, name: 'Tenant 6' },
          { id: 7, name: 'Hooli' },
        ].map((tenant) => ({ ...tenant, name_key: nameKey(tenant.name) }));
        const expectedUsers = [
          { tenant_id: 1, id: 10, username: 'alice' },
          { tenant_id: 1, id: 11, username: 'a1ice-11' },
          { tenant_id: 1, id: 12, username: 'bob' },
          { tenant_id: 2, id: 20, username: 'alice' },
        ].map((user) => ({ ...user, username_key: nameKey(user.username) }));
        const tenants = () => db.query('SELECT id::int, name, name_key FROM tenants ORDER BY id');
        const users = () =>
          db.query(
            'SELECT tenant_id::int, id::int, username, username_key FROM users ORDER BY 1, 2',
          );
        expect(await tenants()).toEqual(expectedTenants);
        expect(await users()).toEqual(expectedUsers);
        expect(logs).toEqual(
          expect.arrayContaining([
            'NameKeys1795730000000: tenant 2: name renamed: it looked like the name of tenant 1',
            'NameKeys1795730000000: tenant 4: name normalised (NFKC, spaces, invisible characters)',
            'NameKeys1795730000000: tenant 1 user 11: name renamed: it looked like the name of tenant 1 user 10',
          ]),
        );
        expect(logs.join('\n')).not.toMatch(/Acme|Globex|alice/);

        const lookAlike = await db
          .query(`INSERT INTO tenants (id, name, name_key) VALUES (100, 'ACME', $1)`, [
            nameKey('ACME'),
          ])
          .catch((caught: unknown) => caught);
        expect(lookAlike).toMatchObject({
          message: expect.stringContaining('tenants_name_key_key'),
        });

        await db.undoLastMigration({ transaction: 'each' });
        const columns = await db.query(
          `SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE column_name IN ('name_key', 'username_key')`,
        );
        expect(columns).toEqual([]);
        const lowerName = await db
          .query(`INSERT INTO tenants (id, name) VALUES (100, 'ACME')`)
          .catch((caught: unknown) => caught);
        expect(lowerName).toMatchObject({
          message: expect.stringContaining('tenants_name_lower_key'),
        });

        // Again: the names are settled now, the same keys come back and nothing is renamed twice.
        logs.length = 0;
        await db.runMigrations({ transaction: 'each' });
        expect(await tenants()).toEqual(expectedTenants);
        expect(await users()).toEqual(expectedUsers);
        expect(logs.filter((line) => line.includes(': name '))).toEqual([]);
      } finally {
        await db.destroy();
      }
    });
  });
});
