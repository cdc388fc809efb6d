import { MigrationInterface, QueryRunner } from 'typeorm';
import { detectCitusForMigration } from '../src/database/citus';
import {
  ExistingName,
  NameRules,
  settleNames,
  SettledName,
  TENANT_NAME_RULES,
  USERNAME_RULES,
} from '../src/names/existing-names';

/** Rows per statement when the settled names are loaded into the temporary tables. */
const BATCH = 5000;

/**
 * Names people can tell apart (src/names/names.ts). tenants.name_key (unique) and
 * users.username_key (unique with tenant_id, the distribution column) hold the look-alike key of
 * the name; they replace the unique lower(name) index and UNIQUE (tenant_id, username).
 *
 * The keys are computed here, in TypeScript, and existing names are brought to the rules first
 * (src/names/existing-names.ts): characters no name may contain are removed, the rest stored in
 * NFKC form with spaces collapsed; a name left empty becomes "Tenant <id>" / "user-<id>". When
 * names share a key (within a tenant, for usernames), the oldest row (created_at, then id) keeps
 * its name and each later one gets its id appended: "Acme (57)", "alice-57". A renamed name that
 * still looks like another one stops the migration with a message naming the rows. Every change
 * is logged with the row's id.
 *
 * down() drops the keys and brings the old constraints back; names stay as up() left them (the
 * removed characters are not kept). It fails when two names that up() accepted as different are
 * equal under lower() (say Greek "ΗΛΙΟΣ" and "ηλιος").
 */
export class NameKeys1795730000000 implements MigrationInterface {
  name = 'NameKeys1795730000000';

  public async up(runner: QueryRunner): Promise<void> {
    await detectCitusForMigration(runner, this.name);
    await runner.query(`DROP INDEX tenants_name_lower_key`);
    await runner.query(`ALTER TABLE users DROP CONSTRAINT users_username_key`);
    await runner.query(`ALTER TABLE tenants ADD COLUMN name_key text`);
    await runner.query(`ALTER TABLE users ADD COLUMN username_key text`);

    const existing = (await runner.query(
      `SELECT id::text AS id, name FROM tenants ORDER BY created_at, id`,
    )) as ExistingName[];
    const tenants = settleNames(existing, TENANT_NAME_RULES);
    this.log(runner, tenants, TENANT_NAME_RULES);
    // The temporary tables live on the coordinator; Citus plans each UPDATE ... FROM below
    // against a subquery of one (as in AccountsAndSessions), joined on the distribution column.
    await runner.query(`
      CREATE TEMPORARY TABLE settled_tenant_names (id bigint, name text, name_key text)
      ON COMMIT DROP`);
    await this.load(runner, 'settled_tenant_names', ['bigint', 'text', 'text'], tenants, (row) => [
      row.id,
      row.name,
      row.key,
    ]);
    await runner.query(`
      UPDATE tenants t SET name = s.name, name_key = s.name_key
        FROM (SELECT * FROM settled_tenant_names) s
       WHERE t.id = s.id`);

    const users = (await runner.query(
      `SELECT tenant_id::text AS tenant_id, id::text AS id, username AS name
         FROM users ORDER BY tenant_id, created_at, id`,
    )) as Array<ExistingName & { tenant_id: string }>;
    const settledUsers: Array<SettledName & { tenantId: string }> = [];
    for (const [tenantId, members] of groupBy(users, (user) => user.tenant_id)) {
      const rules = { ...USERNAME_RULES, kind: `tenant ${tenantId} user` };
      const settled = settleNames(members, rules);
      this.log(runner, settled, rules);
      settledUsers.push(...settled.map((user) => ({ ...user, tenantId })));
    }
    await runner.query(`
      CREATE TEMPORARY TABLE settled_usernames (tenant_id bigint, id bigint, username text,
                                                username_key text)
      ON COMMIT DROP`);
    await this.load(
      runner,
      'settled_usernames',
      ['bigint', 'bigint', 'text', 'text'],
      settledUsers,
      (row) => [row.tenantId, row.id, row.name, row.key],
    );
    await runner.query(`
      UPDATE users u SET username = s.username, username_key = s.username_key
        FROM (SELECT * FROM settled_usernames) s
       WHERE u.tenant_id = s.tenant_id AND u.id = s.id`);

    await runner.query(`ALTER TABLE tenants ALTER COLUMN name_key SET NOT NULL`);
    await runner.query(`ALTER TABLE tenants ADD CONSTRAINT tenants_name_key_key UNIQUE (name_key)`);
    await runner.query(`ALTER TABLE users ALTER COLUMN username_key SET NOT NULL`);
    await runner.query(
      `ALTER TABLE users ADD CONSTRAINT users_username_key_key UNIQUE (tenant_id, username_key)`,
    );
  }

  public async down(runner: QueryRunner): Promise<void> {
    await detectCitusForMigration(runner, this.name);
    await runner.query(`ALTER TABLE users DROP CONSTRAINT users_username_key_key`);
    await runner.query(`ALTER TABLE users DROP COLUMN username_key`);
    await runner.query(`ALTER TABLE tenants DROP CONSTRAINT tenants_name_key_key`);
    await runner.query(`ALTER TABLE tenants DROP COLUMN name_key`);
    await runner.query(
      `ALTER TABLE users ADD CONSTRAINT users_username_key UNIQUE (tenant_id, username)`,
    );
    await runner.query(`CREATE UNIQUE INDEX tenants_name_lower_key ON tenants (lower(name))`);
  }

  private log(runner: QueryRunner, rows: SettledName[], rules: NameRules): void {
    for (const row of rows) {
      if (row.change === undefined) continue;
      // Ids only: names are customer data, and a deploy log is not the place for them.
      runner.connection.logger.logMigration(
        `${this.name}: ${rules.kind} ${row.id}: name ${row.change}`,
        runner,
      );
    }
  }

  private async load<T>(
    runner: QueryRunner,
    table: string,
    types: string[],
    rows: T[],
    values: (row: T) => string[],
  ): Promise<void> {
    const columns = types.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
    for (let start = 0; start < rows.length; start += BATCH) {
      const batch = rows.slice(start, start + BATCH).map(values);
      await runner.query(
        `INSERT INTO ${table} SELECT * FROM unnest(${columns})`,
        types.map((_, i) => batch.map((row) => row[i])),
      );
    }
  }
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}
