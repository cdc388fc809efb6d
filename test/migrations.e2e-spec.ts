import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { InitialSchema1795700000000 } from '../migrations/1795700000000-InitialSchema';
import { Operators1795710000000 } from '../migrations/1795710000000-Operators';
import { AccountsAndSessions1795720000000 } from '../migrations/1795720000000-AccountsAndSessions';
import { buildDataSourceOptions } from '../src/database/data-source-options';

/**
 * The accounts migration on data written before it: users whose email had one password, and an
 * email whose tenants had different passwords. Runs in a database of its own on the test server
 * (without the citus extension there, so the plain PostgreSQL path; the Citus path of the same
 * statements runs whenever the suite migrates a Citus cluster, on empty tables).
 */
describe('Accounts migration on existing users (e2e)', () => {
  const name = `migration_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: process.env.E2E_DATABASE_URL });
  let url: string;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const parsed = new URL(process.env.E2E_DATABASE_URL ?? '');
    parsed.pathname = `/${name}`;
    parsed.search = '';
    url = parsed.toString();
  });

  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  const dataSource = (migrations: Array<new () => object>) =>
    new DataSource({ ...buildDataSourceOptions({ url }), migrations, logging: false });

  it('should move users to accounts without locking anyone out, and revert', async () => {
    const before = dataSource([InitialSchema1795700000000, Operators1795710000000]);
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    await before.query(`INSERT INTO tenants (id, name) VALUES (1, 'A'), (2, 'B'), (3, 'C')`);
    await before.query(`
      INSERT INTO users (tenant_id, id, username, email, password_hash, role, created_at) VALUES
        (1, 10, 'x', 'same@x.io', 'hash-a', 'owner', now() - interval '3 days'),
        (2, 20, 'x', 'same@x.io', 'hash-a', 'owner', now() - interval '2 days'),
        (3, 30, 'x', 'same@x.io', 'hash-c', 'owner', now() - interval '1 day'),
        (1, 11, 'y', 'solo@x.io', 'hash-s', 'member', now())`);
    await before.query(`
      INSERT INTO login_directory (email, tenant_id, user_id) VALUES
        ('same@x.io', 1, 10), ('same@x.io', 2, 20), ('same@x.io', 3, 30), ('solo@x.io', 1, 11)`);
    await before.destroy();

    const after = dataSource([
      InitialSchema1795700000000,
      Operators1795710000000,
      AccountsAndSessions1795720000000,
    ]);
    await after.initialize();
    try {
      await after.runMigrations({ transaction: 'each' });
      // One account per email, with the password of its most recent membership...
      expect(
        await after.query(
          `SELECT email, password_hash, email_verified_at FROM accounts ORDER BY email`,
        ),
      ).toEqual([
        { email: 'same@x.io', password_hash: 'hash-c', email_verified_at: null },
        { email: 'solo@x.io', password_hash: 'hash-s', email_verified_at: null },
      ]);
      // ...and each other membership keeps the password it had, for a login that names it.
      expect(
        await after.query(
          `SELECT email, tenant_id::text, legacy_password_hash FROM login_directory ORDER BY 1, 2`,
        ),
      ).toEqual([
        { email: 'same@x.io', tenant_id: '1', legacy_password_hash: 'hash-a' },
        { email: 'same@x.io', tenant_id: '2', legacy_password_hash: 'hash-a' },
        { email: 'same@x.io', tenant_id: '3', legacy_password_hash: null },
        { email: 'solo@x.io', tenant_id: '1', legacy_password_hash: null },
      ]);
      const columns = await after.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'users'`,
      );
      expect(columns.map((c: { column_name: string }) => c.column_name)).not.toContain(
        'password_hash',
      );

      await after.undoLastMigration({ transaction: 'each' });
      expect(
        await after.query(
          `SELECT tenant_id::text, id::text, password_hash FROM users ORDER BY 1, 2`,
        ),
      ).toEqual([
        { tenant_id: '1', id: '10', password_hash: 'hash-a' },
        { tenant_id: '1', id: '11', password_hash: 'hash-s' },
        { tenant_id: '2', id: '20', password_hash: 'hash-a' },
        { tenant_id: '3', id: '30', password_hash: 'hash-c' },
      ]);
    } finally {
      await after.destroy();
    }
  });
});
