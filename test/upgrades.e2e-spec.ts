import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { InitialSchema1795700000000 } from '../migrations/1795700000000-InitialSchema';
import { Operators1795710000000 } from '../migrations/1795710000000-Operators';
import { AccountsAndSessions1795720000000 } from '../migrations/1795720000000-AccountsAndSessions';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { createTestApp, Http, OPERATOR, TEST_JWT } from './harness/e2e';
import { withMultiShardGuard } from './harness/test-database';
import { createScratchDatabase, ScratchDatabase } from './harness/scratch-database';
import { migrationLogs } from './harness/migration-logger';

/**
 * Upgrades keep every row and every login. For each earlier release (the schema at each migration
 * but the last), a database is built at that release and filled as that release's code would
 * have: tenants, one email in several tenants with different passwords, invitations used and
 * pending, notes, names that the later rules refuse or that collide by look, and from the
 * accounts release on, sessions, mailed tokens, removed members and a waiting claim. Then every
 * later migration runs and the current service is booted on the result: every row is there, every
 * member logs in as the README promises, and on Citus the distribution is what a fresh install
 * gets. Last, migration:revert back to the first release and forward again keeps what the README
 * says it keeps. Runs in a database of its own on the e2e servers (a cluster database on Citus).
 */

const MIGRATIONS_DIR = join(__dirname, '..', 'migrations');
type MigrationClass = new () => object;

/** Every migration's name, in order, read from the folder (a new one is covered without listing it). */
function migrationNames(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((file) => /^\d+-\w+\.ts$/.test(file))
    .sort()
    .map((file) => {
      const [, timestamp, name] = /^(\d+)-(\w+)\.ts$/.exec(file) ?? [];
      return `${name}${timestamp}`;
    });
}

/** bcrypt as the service hashes in tests (cost 4); `raw`: as releases before NFKC passwords did. */
const hashPassword = (password: string, raw = false) =>
  bcrypt.hash(raw ? password : password.normalize('NFKC'), 4);
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A refresh token in the format the accounts release issued (src/sessions/sessions.service.ts). */
function refreshToken(tenantId: string, family: string, generation: number): string {
  const key = Buffer.from(
    hkdfSync('sha256', TEST_JWT.secret, '', 'notes-service refresh tokens v1', 32),
  );
  const body = `${tenantId}.${family}.${generation}`;
  const nonce = randomBytes(16);
  const mac = createHmac('sha256', key).update(`${body}.`, 'utf8').update(nonce).digest();
  return `${body}.${Buffer.concat([nonce, mac.subarray(0, 16)]).toString('base64url')}`;
}

/** A mailed token in the accounts release's format (src/accounts/email-tokens.service.ts). */
function mailToken(email: string): string {
  return `${randomBytes(32).toString('base64url')}.${Buffer.from(email).toString('base64url')}`;
}

interface Login {
  email: string;
  password: string;
  /** Named at login (the key of a tenant in `tenants`), when the README says it must be. */
  tenant?: string;
  /** The tenant the login lands in. */
  lands: string;
}

/** What a release's fixture wrote, for the checks after the upgrade. */
interface Written {
  tenants: Record<string, string>;
  /** Expected stored names after every migration, by tenant key ({id} is the tenant's id). */
  names: Record<string, string>;
  /** Expected usernames after every migration, by user id. */
  usernames: Record<string, string>;
  logins: Login[];
  /** Logins that must fail (401), for a wrong or replaced password. */
  refused: Array<Omit<Login, 'lands'>>;
  pendingInvitation: { tenant: string; code: string; role: string };
  usedInvitation: { tenant: string; code: string };
  operator?: { email: string; password: string };
  session?: { tenant: string; token: string };
  claim?: { token: string; email: string; password: string; lands: string; closes: string };
}

const DAY = `interval '1 day'`;

/**
 * The tables of the releases before accounts (InitialSchema, Operators): users hold the password
 * hash, hashed as typed (no NFKC yet); login_directory lists memberships by email.
 */
async function fillFirstReleases(db: Client, withOperators: boolean): Promise<Written> {
  const tenants: Record<string, string> = {};
  for (const [key, name, age] of [
    ['acme', 'Acme', 30],
    ['acmeAccent', 'ACMÉ', 20],
    ['zeroWidth', 'Zero\u200bWidth Labs', 10],
    ['globex', 'Globex', 5],
    ['globexCyrillic', 'Gl\u043ebex', 1],
  ] as const) {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO tenants (name, created_at) VALUES ($1, now() - $2 * ${DAY}) RETURNING id::text`,
      [name, age],
    );
    tenants[key] = rows[0].id;
  }
  const users: Record<string, string> = {};
  const addUser = async (
    key: string,
    tenant: string,
    username: string,
    email: string,
    password: string,
    role: string,
    age: number,
  ) => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO users (tenant_id, username, email, password_hash, role, created_at)
       VALUES ($1, $2, $3, $4, $5, now() - $6 * ${DAY}) RETURNING id::text`,
      [tenants[tenant], username, email, await hashPassword(password, true), role, age],
    );
    users[key] = rows[0].id;
    await db.query(
      `INSERT INTO login_directory (email, tenant_id, user_id, created_at)
       VALUES ($1, $2, $3, now() - $4 * ${DAY})`,
      [email, tenants[tenant], rows[0].id, age],
    );
  };
  await addUser('alice', 'acme', 'alice', 'alice@upgrade.test', 'alice password 1', 'owner', 30);
  await addUser('bobAcme', 'acme', 'bob', 'bob@upgrade.test', 'bob password old', 'member', 29);
  // Looks like alice ('1' like 'l'): the later one is renamed.
  await addUser('a1ice', 'acme', 'a1ice', 'a1ice@upgrade.test', 'a1ice password 1', 'admin', 28);
  // Typed in NFD ("e" and a combining acute), hashed as typed, as before passwords were NFKC.
  await addUser(
    'carol',
    'acmeAccent',
    'carol',
    'carol@upgrade.test',
    'cafe\u0301 au lait 1',
    'owner',
    20,
  );
  await addUser('dan', 'zeroWidth', 'dan', 'dan@upgrade.test', 'dan password 1', 'owner', 10);
  await addUser('bobGlobex', 'globex', 'bob', 'bob@upgrade.test', 'bob password new', 'owner', 5);
  await addUser(
    'erin',
    'globexCyrillic',
    'erin',
    'erin@upgrade.test',
    'erin password 1',
    'owner',
    1,
  );

  const pending = 'pending-invitation-code-from-release-one';
  const used = 'used-invitation-code-from-release-one';
  await db.query(
    `INSERT INTO invitations (tenant_id, code_hash, role, created_by, expires_at, used_at, used_by)
     VALUES ($1, $2, 'admin', $3, now() + 3 * ${DAY}, NULL, NULL),
            ($1, $4, 'member', $3, now() + 3 * ${DAY}, now() - 28 * ${DAY}, $5)`,
    [tenants.acme, sha256(pending), users.alice, sha256(used), users.a1ice],
  );
  for (const [tenant, user, title, content] of [
    ['acme', 'alice', 'Suppliers', 'Call the supplier about the spring order'],
    ['acme', 'alice', null, 'A note without a title'],
    ['acme', 'bobAcme', 'Bob in Acme', 'Ünïcödé and emoji 🦊 survive'],
    ['acmeAccent', 'carol', 'Café', 'Accents: é è ê'],
    ['globex', 'bobGlobex', 'Bob in Globex', 'x'.repeat(5000)],
  ] as const) {
    await db.query(
      `INSERT INTO notes (tenant_id, user_id, title, content) VALUES ($1, $2, $3, $4)`,
      [tenants[tenant], users[user], title, content],
    );
  }
  const operator = { email: 'ops-before@upgrade.test', password: 'operator from before 1' };
  if (withOperators) {
    await db.query(`INSERT INTO operators (email, password_hash) VALUES ($1, $2)`, [
      operator.email,
      await hashPassword(operator.password, true),
    ]);
  }
  return {
    tenants,
    names: {
      acme: 'Acme',
      acmeAccent: 'ACMÉ ({id})',
      zeroWidth: 'ZeroWidth Labs',
      globex: 'Globex',
      globexCyrillic: 'Gl\u043ebex ({id})',
    },
    usernames: { [users.a1ice]: `a1ice-${users.a1ice}` },
    logins: [
      { email: 'alice@upgrade.test', password: 'alice password 1', lands: 'acme' },
      { email: 'a1ice@upgrade.test', password: 'a1ice password 1', lands: 'acme' },
      { email: 'carol@upgrade.test', password: 'cafe\u0301 au lait 1', lands: 'acmeAccent' },
      { email: 'dan@upgrade.test', password: 'dan password 1', lands: 'zeroWidth' },
      { email: 'erin@upgrade.test', password: 'erin password 1', lands: 'globexCyrillic' },
      // The account gets the newest membership's password; the older tenant keeps its own.
      {
        email: 'bob@upgrade.test',
        password: 'bob password new',
        tenant: 'globex',
        lands: 'globex',
      },
      { email: 'bob@upgrade.test', password: 'bob password new', tenant: 'acme', lands: 'acme' },
      { email: 'bob@upgrade.test', password: 'bob password old', tenant: 'acme', lands: 'acme' },
    ],
    refused: [
      { email: 'bob@upgrade.test', password: 'bob password old', tenant: 'globex' },
      { email: 'alice@upgrade.test', password: 'bob password new' },
    ],
    pendingInvitation: { tenant: 'acme', code: pending, role: 'admin' },
    usedInvitation: { tenant: 'acme', code: used },
    ...(withOperators ? { operator } : {}),
  };
}

/**
 * What the accounts release's code wrote on top of the rows it inherited: an account registered
 * then (password hashed in NFKC form), a member removed since (the row stays, the login goes), an
 * unconfirmed account whose email another registration claims (waiting for the mailbox), and a
 * live session.
 */
async function fillAccountsRelease(db: Client, inherited: Written): Promise<Written> {
  const { tenants } = inherited;
  const addUser = async (tenant: string, username: string, email: string, removed: boolean) => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO users (tenant_id, username, email, role, removed_at)
       VALUES ($1, $2, $3, 'member', ${removed ? 'now()' : 'NULL'}) RETURNING id::text`,
      [tenants[tenant], username, email],
    );
    if (!removed) {
      await db.query(
        `INSERT INTO login_directory (email, tenant_id, user_id) VALUES ($1, $2, $3)`,
        [email, tenants[tenant], rows[0].id],
      );
    }
    return rows[0].id;
  };
  const account = async (email: string, password: string, verified: boolean) =>
    db.query(`INSERT INTO accounts (email, password_hash, email_verified_at) VALUES ($1, $2, $3)`, [
      email,
      await hashPassword(password),
      verified ? new Date() : null,
    ]);

  // Registered under the accounts release: typed in NFD, stored as the NFKC form's hash.
  await addUser('zeroWidth', 'grace', 'grace@upgrade.test', false);
  await account('grace@upgrade.test', 'gra\u0301ce password 1', true);
  // Removed since: the row and its note stay, the login to the tenant does not.
  const gone = await addUser('acme', 'gone', 'gone@upgrade.test', true);
  await account('gone@upgrade.test', 'gone password 1', true);
  await db.query(
    `INSERT INTO notes (tenant_id, user_id, content) VALUES ($1, $2, 'by a member removed since')`,
    [tenants.acme, gone],
  );
  // An unconfirmed account in Acme, and a registration in Globex claiming its email: it waits.
  await addUser('acme', 'frank', 'frank@upgrade.test', false);
  await account('frank@upgrade.test', 'frank squatter 1', false);
  const claimed = await addUser('globex', 'frank', 'frank@upgrade.test', true);
  const claimToken = mailToken('frank@upgrade.test');
  await db.query(
    `INSERT INTO email_tokens (email, token_hash, purpose, expires_at, claim_password_hash,
                               claim_tenant_id, claim_user_id)
     VALUES ($1, $2, 'verify', now() + ${DAY}, $3, $4, $5)`,
    [
      'frank@upgrade.test',
      sha256(claimToken),
      await hashPassword('frank mailbox owner 1'),
      tenants.globex,
      claimed,
    ],
  );
  // Alice's session, on its third refresh token.
  const alice = await db.query<{ id: string }>(
    `SELECT user_id::text AS id FROM login_directory WHERE email = 'alice@upgrade.test'`,
  );
  const family = randomBytes(16).toString('base64url');
  const token = refreshToken(tenants.acme, family, 2);
  await db.query(
    `INSERT INTO sessions (tenant_id, family, subject_kind, subject_id, generation, token_hash, expires_at)
     VALUES ($1, $2, 'user', $3, 2, $4, now() + 30 * ${DAY})`,
    [tenants.acme, family, alice.rows[0].id, sha256(token)],
  );
  return {
    ...inherited,
    logins: [
      ...inherited.logins,
      { email: 'grace@upgrade.test', password: 'gr\u00e1ce password 1', lands: 'zeroWidth' },
      { email: 'frank@upgrade.test', password: 'frank squatter 1', lands: 'acme' },
    ],
    refused: [
      ...inherited.refused,
      { email: 'gone@upgrade.test', password: 'gone password 1', tenant: 'acme' },
    ],
    session: { tenant: 'acme', token },
    claim: {
      token: claimToken,
      email: 'frank@upgrade.test',
      password: 'frank mailbox owner 1',
      lands: 'globex',
      closes: 'acme',
    },
  };
}

/** Each earlier release: its last migration, and how a database of it is built and filled. */
const RELEASES: Array<{
  last: string;
  build: (
    migrateTo: (migrations: MigrationClass[]) => Promise<void>,
    db: Client,
  ) => Promise<Written>;
}> = [
  {
    last: 'InitialSchema1795700000000',
    build: async (migrateTo, db) => {
      await migrateTo([InitialSchema1795700000000]);
      return fillFirstReleases(db, false);
    },
  },
  {
    last: 'Operators1795710000000',
    build: async (migrateTo, db) => {
      await migrateTo([InitialSchema1795700000000, Operators1795710000000]);
      return fillFirstReleases(db, true);
    },
  },
  {
    last: 'AccountsAndSessions1795720000000',
    build: async (migrateTo, db) => {
      // The rows it inherited went through its own migration, as a database that lived through it.
      await migrateTo([InitialSchema1795700000000, Operators1795710000000]);
      const inherited = await fillFirstReleases(db, true);
      await migrateTo([
        InitialSchema1795700000000,
        Operators1795710000000,
        AccountsAndSessions1795720000000,
      ]);
      return fillAccountsRelease(db, inherited);
    },
  },
];

/**
 * Rows that every migration must keep as they are, read with columns every release has (names
 * are checked on their own: NameKeys rewrites them by rule).
 */
const KEPT: Record<string, string> = {
  tenants: `SELECT id::text, created_at FROM tenants ORDER BY id`,
  users: `SELECT tenant_id::text, id::text, email, role, created_at FROM users ORDER BY 1, 2`,
  notes: `SELECT tenant_id::text, id::text, user_id::text, title, content, created_at, updated_at
            FROM notes ORDER BY 1, 2`,
  invitations: `SELECT tenant_id::text, id::text, code_hash, role, created_by::text, expires_at,
                       used_at, used_by::text, created_at FROM invitations ORDER BY 1, 2`,
  login_directory: `SELECT email, tenant_id::text, user_id::text FROM login_directory ORDER BY 1, 2`,
};
/** Kept too, where the release has the table. */
const KEPT_WHERE_PRESENT: Record<string, string> = {
  operators: `SELECT id::text, email, password_hash, created_at FROM operators ORDER BY id`,
  accounts: `SELECT email, password_hash, email_verified_at, created_at FROM accounts ORDER BY 1`,
  removed: `SELECT tenant_id::text, id::text, removed_at FROM users
             WHERE removed_at IS NOT NULL ORDER BY 1, 2`,
  sessions: `SELECT tenant_id::text, id::text, family, generation, token_hash, expires_at, revoked_at
               FROM sessions ORDER BY 1, 2`,
  email_tokens: `SELECT email, token_hash, purpose, expires_at, used_at, claim_password_hash,
                        claim_tenant_id::text, claim_user_id::text FROM email_tokens ORDER BY 1, 2`,
};

async function tableExists(db: Client, table: string): Promise<boolean> {
  const { rows } = await db.query(
    table === 'removed'
      ? `SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'removed_at'`
      : `SELECT 1 FROM information_schema.tables WHERE table_name = $1`,
    table === 'removed' ? [] : [table],
  );
  return rows.length > 0;
}

async function snapshot(db: Client): Promise<Record<string, unknown[]>> {
  const result: Record<string, unknown[]> = {};
  for (const [table, sql] of Object.entries(KEPT)) result[table] = (await db.query(sql)).rows;
  for (const [table, sql] of Object.entries(KEPT_WHERE_PRESENT)) {
    if (await tableExists(db, table)) result[table] = (await db.query(sql)).rows;
  }
  return result;
}

/**
 * How Citus holds the tables: per table its kind, distribution column, shard count and the
 * workers its shards are on, and which tables share a colocation group (ids differ between
 * databases; the grouping is what matters).
 */
async function distribution(db: Client): Promise<unknown> {
  const { rows } = await db.query<{
    name: string;
    method: string;
    col: string | null;
    colocationid: number;
    shards: number;
    nodes: string;
  }>(
    `SELECT p.logicalrelid::text AS name, p.partmethod AS method,
            CASE WHEN p.partkey IS NULL THEN NULL
                 ELSE column_to_column_name(p.logicalrelid, p.partkey) END AS col,
            p.colocationid,
            (SELECT count(*)::int FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards,
            (SELECT string_agg(DISTINCT n.nodeport::text, ',' ORDER BY n.nodeport::text)
               FROM pg_dist_shard s JOIN pg_dist_placement pl USING (shardid)
               JOIN pg_dist_node n ON n.groupid = pl.groupid
              WHERE s.logicalrelid = p.logicalrelid) AS nodes
       FROM pg_dist_partition p ORDER BY 1`,
  );
  const groups = new Map<number, string[]>();
  for (const row of rows)
    groups.set(row.colocationid, [...(groups.get(row.colocationid) ?? []), row.name]);
  return {
    tables: rows.map(({ name, method, col, shards, nodes }) => ({
      name,
      method,
      col,
      shards,
      nodes,
    })),
    colocated: [...groups.values()].map((names) => names.sort().join(' + ')).sort(),
  };
}

describe('Upgrades from every earlier release (e2e)', () => {
  jest.setTimeout(300_000);
  const name = `upgrade_${process.pid}_${Date.now()}`;
  let scratch: ScratchDatabase;
  let db: Client;
  let fresh: unknown;

  // What the migrations log, read by the checks (and kept out of the test output).
  const logs: string[] = [];
  const logger = migrationLogs(logs);
  const dataSource = (migrations?: MigrationClass[]) =>
    new DataSource({
      ...buildDataSourceOptions({ url: scratch.url }),
      ...(migrations ? { migrations } : {}),
      logger,
    });

  /** Runs `migrations` (all of them when omitted) that have not run yet. */
  async function migrate(migrations?: MigrationClass[]): Promise<string[]> {
    const source = dataSource(migrations);
    await source.initialize();
    try {
      return (await source.runMigrations({ transaction: 'each' })).map((m) => m.name);
    } finally {
      await source.destroy();
    }
  }

  /** migration:revert until only the first `keep` migrations remain. */
  async function revertTo(keep: number): Promise<void> {
    const source = dataSource();
    await source.initialize();
    try {
      for (;;) {
        const ran = await source.query(`SELECT count(*)::int AS n FROM typeorm_migrations`);
        if (ran[0].n <= keep) return;
        await source.undoLastMigration({ transaction: 'each' });
      }
    } finally {
      await source.destroy();
    }
  }

  async function withApp<T>(
    fn: (http: () => Http, app: INestApplication) => Promise<T>,
  ): Promise<T> {
    const { app, http } = await createTestApp({
      DATABASE_URL: scratch.citus ? withMultiShardGuard(scratch.url) : scratch.url,
      ADMIN_DATABASE_URL: scratch.url,
    });
    try {
      return await fn(http, app);
    } finally {
      await app.close();
    }
  }

  beforeAll(async () => {
    scratch = await createScratchDatabase(name);
    db = new Client({ connectionString: scratch.url });
    await db.connect();
    // A fresh install, for what Citus must hold after an upgrade; then back to empty.
    await migrate();
    if (scratch.citus) fresh = await distribution(db);
    await revertTo(0);
  });

  afterAll(async () => {
    await db?.end();
    await scratch?.drop();
  });

  it('should have a fixture at every release but the newest', () => {
    expect(RELEASES.map((release) => release.last)).toEqual(migrationNames().slice(0, -1));
    // On Citus the database is a cluster database: what upgrades are compared with is a real
    // distribution over the workers.
    if (scratch.citus) {
      expect(fresh).toMatchObject({
        tables: expect.arrayContaining([
          {
            name: 'notes',
            method: 'h',
            col: 'tenant_id',
            shards: 32,
            nodes: expect.stringMatching(/^\d+,\d+$/),
          },
          { name: 'tenants', method: 'n', col: null, shards: 1, nodes: expect.any(String) },
        ]),
        colocated: expect.arrayContaining([
          'invitations + notes + sessions + users',
          'accounts + email_tokens + login_directory',
        ]),
      });
    }
  });

  /** Every login as the README promises, and what else each fixture left to check. */
  async function checkService(written: Written, http: () => Http): Promise<void> {
    const { tenants } = written;
    for (const login of written.logins) {
      const response = await http()
        .post('/api/v1/auth/login')
        .send({
          email: login.email,
          password: login.password,
          ...(login.tenant ? { tenant: tenants[login.tenant] } : {}),
        });
      expect({ login, status: response.status, tenant: response.body.tenant?.id }).toEqual({
        login,
        status: 200,
        tenant: tenants[login.lands],
      });
    }
    for (const login of written.refused) {
      const response = await http()
        .post('/api/v1/auth/login')
        .send({
          email: login.email,
          password: login.password,
          ...(login.tenant ? { tenant: tenants[login.tenant] } : {}),
        });
      expect({ login, status: response.status }).toEqual({ login, status: 401 });
    }
    // An email in two tenants is asked which one, as for any account.
    const choice = await http()
      .post('/api/v1/auth/login')
      .send({ email: 'bob@upgrade.test', password: 'bob password new' })
      .expect(409);
    expect(choice.body.code).toBe('TENANT_CHOICE_REQUIRED');
    // The pending invitation still admits someone, with its role; the used one admits no one.
    const joined = await http()
      .post('/api/v1/auth/register')
      .send({
        tenantName: written.names[written.pendingInvitation.tenant].replace('{id}', tenants.acme),
        username: 'newcomer',
        email: `newcomer-${randomBytes(4).toString('hex')}@upgrade.test`,
        password: 'newcomer password 1',
        inviteCode: written.pendingInvitation.code,
      })
      .expect(201);
    expect(joined.body).toMatchObject({
      tenant: { id: tenants[written.pendingInvitation.tenant] },
      user: { role: written.pendingInvitation.role },
    });
    const reused = await http()
      .post('/api/v1/auth/register')
      .send({
        tenantName: 'Acme',
        username: 'latecomer',
        email: 'latecomer@upgrade.test',
        password: 'latecomer password 1',
        inviteCode: written.usedInvitation.code,
      })
      .expect(403);
    expect(reused.body.code).toBe('INVITATION_INVALID');
    // The operator from before logs in; where there was none, the service made ADMIN_EMAIL's.
    if (written.operator) {
      await http().post('/api/v1/admin/auth/login').send(written.operator).expect(200);
      await http().post('/api/v1/admin/auth/login').send(OPERATOR).expect(401);
    } else {
      await http().post('/api/v1/admin/auth/login').send(OPERATOR).expect(200);
    }
    if (written.session) {
      await http()
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: written.session.token })
        .expect(200);
    }
    if (written.claim) {
      const { claim } = written;
      await http().post('/api/v1/auth/verify-email').send({ token: claim.token }).expect(200);
      const after = await http()
        .post('/api/v1/auth/login')
        .send({ email: claim.email, password: claim.password })
        .expect(200);
      expect(after.body.tenant.id).toBe(tenants[claim.lands]);
      await http()
        .post('/api/v1/auth/login')
        .send({ email: claim.email, password: claim.password, tenant: tenants[claim.closes] })
        .expect(401);
    }
  }

  async function checkNames(written: Written): Promise<void> {
    const stored = await db.query<{ id: string; name: string }>(
      `SELECT id::text, name FROM tenants WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [Object.values(written.tenants)],
    );
    const expected = Object.entries(written.names).map(([key, pattern]) => ({
      id: written.tenants[key],
      name: pattern.replace('{id}', written.tenants[key]),
    }));
    expect(stored.rows).toEqual(expected.sort((a, b) => Number(a.id) - Number(b.id)));
    for (const [id, username] of Object.entries(written.usernames)) {
      const row = await db.query(`SELECT username FROM users WHERE id = $1`, [id]);
      expect({ id, username: row.rows[0]?.username }).toEqual({ id, username });
    }
  }

  it.each(RELEASES.map((release) => [release.last, release] as const))(
    'should upgrade a database of the release ending with %s, keeping every row and every login',
    async (_last, release) => {
      await revertTo(0);
      logs.length = 0;
      const written = await release.build(async (migrations) => {
        await migrate(migrations);
      }, db);
      const before = await snapshot(db);
      const ran = await migrate();
      const all = migrationNames();
      expect(ran).toEqual(all.slice(all.indexOf(release.last) + 1));

      const after = await snapshot(db);
      expect(Object.fromEntries(Object.keys(before).map((table) => [table, after[table]]))).toEqual(
        before,
      );
      await checkNames(written);
      // Renames are logged by id, never with the names (customer data).
      expect(logs.join('\n')).toContain(`tenant ${written.tenants.acmeAccent}: name renamed`);
      expect(logs.join('\n')).not.toMatch(/Acme|ACMÉ|Globex|a1ice/);
      if (scratch.citus) expect(await distribution(db)).toEqual(fresh);
      await withApp((http) => checkService(written, http));
    },
  );

  it('should keep what the README says through migration:revert to the first release and forward', async () => {
    await revertTo(0);
    const newest = RELEASES[RELEASES.length - 1];
    const written = await newest.build(async (migrations) => {
      await migrate(migrations);
    }, db);
    await migrate();
    const kept = await snapshot(db);

    await revertTo(1);
    await migrate();
    const after = await snapshot(db);
    // Kept: tenants, members, notes, invitations, memberships, accounts' passwords; members
    // removed stay removed (the time of removal becomes the time of the upgrade).
    for (const table of Object.keys(KEPT))
      expect({ table, rows: after[table] }).toEqual({ table, rows: kept[table] });
    const removedIds = (rows: unknown[] | undefined) =>
      (rows as Array<{ tenant_id: string; id: string }>).map((r) => `${r.tenant_id}/${r.id}`);
    expect(removedIds(after.removed)).toEqual(removedIds(kept.removed));
    const passwords = (rows: unknown[] | undefined) =>
      (rows as Array<{ email: string; password_hash: string }>).map((r) => [
        r.email,
        r.password_hash,
      ]);
    expect(passwords(after.accounts)).toEqual(
      passwords(kept.accounts).filter(([email]) => email !== 'gone@upgrade.test'),
    );
    // Not kept: sessions, mailed tokens, confirmations, operators (their table goes with the
    // Operators migration; the service's ADMIN_EMAIL operator is made again at start).
    expect({
      sessions: after.sessions,
      tokens: after.email_tokens,
      operators: after.operators,
    }).toEqual({
      sessions: [],
      tokens: [],
      operators: [],
    });
    await checkNames(written);
    if (scratch.citus) expect(await distribution(db)).toEqual(fresh);
    await withApp(async (http) => {
      await checkService(
        { ...written, operator: undefined, session: undefined, claim: undefined },
        http,
      );
      await http()
        .post('/api/v1/auth/refresh')
        .send({ refreshToken: written.session?.token })
        .expect(401);
    });
  });
});
