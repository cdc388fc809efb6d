import { MigrationInterface, QueryRunner } from 'typeorm';
import { detectCitusForMigration } from '../src/database/citus';

/**
 * One identity per person and sessions that end.
 *
 * - accounts: one row per email (one password hash, verification state), distributed by email and
 *   colocated with login_directory, which becomes the index of an account's memberships: login is
 *   one single-shard query and one bcrypt, however many tenants the email is in.
 * - email_tokens: single-use, expiring, hashed tokens sent by mail (verification, password reset),
 *   colocated with accounts.
 * - sessions: one row per login (a family of rotating refresh tokens), distributed by tenant_id
 *   and colocated with users, so a member's sessions are revoked on their tenant's shard.
 * - users.removed_at: removing a member keeps the row (and the authorship of their notes).
 *
 * Existing users become accounts. An email whose memberships had different passwords gets the
 * password of its most recent membership as the account password; each other membership keeps its
 * old hash in login_directory.legacy_password_hash, accepted for a login that names that tenant,
 * until the account password is changed or reset.
 *
 * down() gives each membership back its password hash, and members no longer active (removed, or
 * a claim still waiting) the hash '!', which no password matches and no release writes otherwise.
 * up() reads '!' as that mark: such a member is not active again (removed_at is set, to the time of
 * the upgrade), and a '!' is never an account's password (an email left with none gets no account).
 */
export class AccountsAndSessions1795720000000 implements MigrationInterface {
  name = 'AccountsAndSessions1795720000000';

  public async up(runner: QueryRunner): Promise<void> {
    const citus = await detectCitusForMigration(runner, this.name);

    await runner.query(`
      CREATE TABLE accounts (
        email               text        NOT NULL,
        password_hash       text        NOT NULL,
        email_verified_at   timestamptz,
        password_changed_at timestamptz NOT NULL DEFAULT now(),
        created_at          timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounts_pkey PRIMARY KEY (email),
        CONSTRAINT accounts_email_lower CHECK (email = lower(email))
      )`);
    if (citus) {
      await runner.query(
        `SELECT create_distributed_table('accounts', 'email', colocate_with => 'login_directory')`,
      );
    }
    await runner.query(`ALTER TABLE login_directory ADD COLUMN legacy_password_hash text`);

    await runner.query(`
      CREATE TABLE email_tokens (
        email       text        NOT NULL,
        token_hash  text        NOT NULL,
        purpose     text        NOT NULL,
        expires_at  timestamptz NOT NULL,
        used_at     timestamptz,
        claim_password_hash text,
        claim_tenant_id     bigint,
        claim_user_id       bigint,
        created_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT email_tokens_pkey PRIMARY KEY (email, token_hash),
        CONSTRAINT email_tokens_purpose_check CHECK (purpose IN ('verify', 'reset'))
      )`);
    if (citus) {
      await runner.query(
        `SELECT create_distributed_table('email_tokens', 'email', colocate_with => 'accounts')`,
      );
    }

    await runner.query(`
      CREATE TABLE sessions (
        tenant_id    bigint      NOT NULL,
        id           bigserial   NOT NULL,
        family       text        NOT NULL,
        subject_kind text        NOT NULL,
        subject_id   bigint      NOT NULL,
        generation   integer     NOT NULL DEFAULT 0,
        token_hash   text        NOT NULL,
        expires_at   timestamptz NOT NULL,
        revoked_at   timestamptz,
        created_at   timestamptz NOT NULL DEFAULT now(),
        rotated_at   timestamptz,
        CONSTRAINT sessions_pkey PRIMARY KEY (tenant_id, id),
        CONSTRAINT sessions_family_key UNIQUE (tenant_id, family),
        CONSTRAINT sessions_subject_check CHECK (subject_kind IN ('user', 'operator'))
      )`);
    await runner.query(
      `CREATE INDEX sessions_subject_idx ON sessions (tenant_id, subject_kind, subject_id)`,
    );
    if (citus) {
      await runner.query(
        `SELECT create_distributed_table('sessions', 'tenant_id', colocate_with => 'users')`,
      );
    }

    await runner.query(`ALTER TABLE users ADD COLUMN removed_at timestamptz`);
    await runner.query(`UPDATE users SET removed_at = now() WHERE password_hash = '!'`);

    // Existing users become accounts (the temporary table is on the coordinator: Citus plans the
    // statements below against it without joining two differently distributed tables).
    await runner.query(`
      CREATE TEMPORARY TABLE migrating_users ON COMMIT DROP AS
      SELECT tenant_id, id, email, password_hash, created_at FROM users WHERE password_hash <> '!'`);
    await runner.query(`
      INSERT INTO accounts (email, password_hash, created_at)
      SELECT DISTINCT ON (email) email, password_hash, created_at
        FROM migrating_users ORDER BY email, created_at DESC, tenant_id DESC, id DESC`);
    await runner.query(`
      UPDATE login_directory d SET legacy_password_hash = c.password_hash
        FROM (SELECT m.email, m.tenant_id, m.password_hash
                FROM migrating_users m
                JOIN (SELECT DISTINCT ON (email) email, password_hash FROM migrating_users
                       ORDER BY email, created_at DESC, tenant_id DESC, id DESC) latest
                  ON latest.email = m.email
               WHERE m.password_hash <> latest.password_hash) c
       WHERE d.email = c.email AND d.tenant_id = c.tenant_id`);
    await runner.query(`ALTER TABLE users DROP COLUMN password_hash`);
  }

  public async down(runner: QueryRunner): Promise<void> {
    await detectCitusForMigration(runner, this.name);
    await runner.query(`ALTER TABLE users ADD COLUMN password_hash text`);
    await runner.query(`
      CREATE TEMPORARY TABLE restoring_hashes ON COMMIT DROP AS
      SELECT d.tenant_id, d.user_id, coalesce(d.legacy_password_hash, a.password_hash) AS hash
        FROM login_directory d JOIN accounts a ON a.email = d.email`);
    await runner.query(`
      UPDATE users u SET password_hash = r.hash
        FROM (SELECT * FROM restoring_hashes) r
       WHERE u.tenant_id = r.tenant_id AND u.id = r.user_id`);
    // Members removed since keep no password: they cannot log in, as before their removal.
    await runner.query(`UPDATE users SET password_hash = '!' WHERE password_hash IS NULL`);
    await runner.query(`ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL`);
    await runner.query(`ALTER TABLE users DROP COLUMN removed_at`);
    await runner.query(`DROP TABLE IF EXISTS sessions`);
    await runner.query(`DROP TABLE IF EXISTS email_tokens`);
    await runner.query(`ALTER TABLE login_directory DROP COLUMN legacy_password_hash`);
    await runner.query(`DROP TABLE IF EXISTS accounts`);
  }
}
