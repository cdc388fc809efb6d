/**
 * The statements the service sends for the benchmarked note routes, written out for the bare
 * server and pgbench, so all three targets run the same SQL. bench/statements.spec.ts checks them
 * against what the service's scoped layer generates, so they cannot drift apart.
 */
const COLUMNS =
  '"tenant_id" AS "tenantId", "id" AS "id", "user_id" AS "userId", "title" AS "title", ' +
  '"content" AS "content", "created_at" AS "createdAt", "updated_at" AS "updatedAt"';

export const NOTE_SQL = {
  /** GET /notes: params tenant, limit + 1. */
  firstPage: `SELECT ${COLUMNS} FROM "notes" WHERE "tenant_id" = $1 ORDER BY "id" DESC LIMIT $2`,
  /** GET /notes?cursor=: params tenant, cursor, limit + 1. */
  nextPage: `SELECT ${COLUMNS} FROM "notes" WHERE "tenant_id" = $1 AND "id" < $2 ORDER BY "id" DESC LIMIT $3`,
  /** GET /notes/:id: params tenant, id, 1. */
  byId: `SELECT ${COLUMNS} FROM "notes" WHERE "tenant_id" = $1 AND "id" = $2 LIMIT $3`,
  /** POST /notes: params tenant, author, title, content. */
  insert: `INSERT INTO "notes" ("tenant_id", "user_id", "title", "content") VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
  /** PATCH /notes/:id by an owner or admin: params tenant, content, id. */
  updateContent: `UPDATE "notes" SET "content" = $2, "updated_at" = now() WHERE "tenant_id" = $1 AND "id" = $3 RETURNING ${COLUMNS}`,
  /** PATCH /notes/:id by a member (own notes only): params tenant, content, id, author. */
  updateOwnContent: `UPDATE "notes" SET "content" = $2, "updated_at" = now() WHERE "tenant_id" = $1 AND "id" = $3 AND "user_id" = $4 RETURNING ${COLUMNS}`,
};

/** pgbench form: $n replaced by pgbench variables, in the same order. */
export function forPgbench(sql: string, variables: string[]): string {
  return `${sql.replace(/\$(\d+)/g, (_, n: string) => `:${variables[Number(n) - 1]}`)};`;
}
