import { MigrationInterface, QueryRunner } from 'typeorm';
import { detectCitusForMigration } from '../src/database/citus';

/**
 * Every key of a tenant-owned table leads with tenant_id (the distribution column), because Citus
 * rejects PRIMARY KEY / UNIQUE / FOREIGN KEY constraints on distributed tables that leave it out.
 * Each table is distributed right after it is created so that later foreign keys point at tables
 * that are already distributed (Citus refuses a local table referencing a reference table).
 */
export class InitialSchema1795700000000 implements MigrationInterface {
  name = 'InitialSchema1795700000000';

  public async up(runner: QueryRunner): Promise<void> {
    const citus = await detectCitusForMigration(runner, this.name);

    await runner.query(`
      CREATE TABLE tenants (
        id         bigserial   PRIMARY KEY,
        name       text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenants_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
      )`);
    await runner.query(`CREATE UNIQUE INDEX tenants_name_lower_key ON tenants (lower(name))`);
    if (citus) await runner.query(`SELECT create_reference_table('tenants')`);

    await runner.query(`
      CREATE TABLE users (
        tenant_id     bigint      NOT NULL REFERENCES tenants (id),
        id            bigserial   NOT NULL,
        username      text        NOT NULL,
        email         text        NOT NULL,
        password_hash text        NOT NULL,
        role          text        NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_pkey PRIMARY KEY (tenant_id, id),
        CONSTRAINT users_email_key UNIQUE (tenant_id, email),
        CONSTRAINT users_username_key UNIQUE (tenant_id, username),
        CONSTRAINT users_email_lower CHECK (email = lower(email)),
        CONSTRAINT users_role_check CHECK (role IN ('owner', 'admin', 'member'))
      )`);
    if (citus) {
      await runner.query(
        `SELECT create_distributed_table('users', 'tenant_id', colocate_with => 'none')`,
      );
    }

    await runner.query(`
      CREATE TABLE notes (
        tenant_id  bigint      NOT NULL,
        id         bigserial   NOT NULL,
        user_id    bigint      NOT NULL,
        title      text,
        content    text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT notes_pkey PRIMARY KEY (tenant_id, id),
        CONSTRAINT notes_author_fkey FOREIGN KEY (tenant_id, user_id)
          REFERENCES users (tenant_id, id) ON DELETE CASCADE
      )`);
    await runner.query(`CREATE INDEX notes_tenant_author_idx ON notes (tenant_id, user_id, id)`);
    if (citus) {
      await runner.query(
        `SELECT create_distributed_table('notes', 'tenant_id', colocate_with => 'users')`,
      );
    }

    await runner.query(`
      CREATE TABLE invitations (
        tenant_id  bigint      NOT NULL,
        id         bigserial   NOT NULL,
        code_hash  text        NOT NULL,
        role       text        NOT NULL,
        created_by bigint      NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz,
        used_by    bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT invitations_pkey PRIMARY KEY (tenant_id, id),
        CONSTRAINT invitations_code_key UNIQUE (tenant_id, code_hash),
        CONSTRAINT invitations_creator_fkey FOREIGN KEY (tenant_id, created_by)
          REFERENCES users (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT invitations_role_check CHECK (role IN ('admin', 'member'))
      )`);
    if (citus) {
      await runner.query(
        `SELECT create_distributed_table('invitations', 'tenant_id', colocate_with => 'users')`,
      );
    }

    await runner.query(`
      CREATE TABLE login_directory (
        email      text        NOT NULL,
        tenant_id  bigint      NOT NULL REFERENCES tenants (id),
        user_id    bigint      NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT login_directory_pkey PRIMARY KEY (email, tenant_id),
        CONSTRAINT login_directory_email_lower CHECK (email = lower(email))
      )`);
    if (citus) {
      await runner.query(
        `SELECT create_distributed_table('login_directory', 'email', colocate_with => 'none')`,
      );
    }
  }

  public async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE IF EXISTS login_directory`);
    await runner.query(`DROP TABLE IF EXISTS invitations`);
    await runner.query(`DROP TABLE IF EXISTS notes`);
    await runner.query(`DROP TABLE IF EXISTS users`);
    await runner.query(`DROP TABLE IF EXISTS tenants`);
  }
}
