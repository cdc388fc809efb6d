import { MigrationInterface, QueryRunner } from 'typeorm';
import { detectCitusForMigration } from '../src/database/citus';

/**
 * Service operators belong to no tenant. Their table stays a plain table on the coordinator (it is
 * tiny and only the admin API reads it), so it needs no distribution call on Citus either.
 */
export class Operators1795710000000 implements MigrationInterface {
  name = 'Operators1795710000000';

  public async up(runner: QueryRunner): Promise<void> {
    await detectCitusForMigration(runner, this.name);
    await runner.query(`
      CREATE TABLE operators (
        id            bigserial   PRIMARY KEY,
        email         text        NOT NULL,
        password_hash text        NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT operators_email_key UNIQUE (email),
        CONSTRAINT operators_email_lower CHECK (email = lower(email))
      )`);
  }

  public async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE IF EXISTS operators`);
  }
}
