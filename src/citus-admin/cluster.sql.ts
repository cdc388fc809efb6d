/** The longer statements of ClusterRepository, which runs them and maps their rows. */

const QUERY_PREVIEW = 500;
/** Tenant-owned tables are colocated with users, so its shard for a tenant is theirs too. */
export const TENANT_TABLE = 'users';

/** Non-idle client backends on every node, without the one asking. */
export const ACTIVITY_ON_CITUS = `SELECT a.global_pid, a.pid, a.usename, a.state, a.wait_event_type, a.wait_event,
                  a.query_start, left(a.query, ${QUERY_PREVIEW}) AS query, a.is_worker_query,
                  a.application_name, n.nodeid, n.nodename, n.nodeport
             FROM citus_stat_activity a
             LEFT JOIN pg_dist_node n ON n.nodeid = a.nodeid
            WHERE a.state IS DISTINCT FROM 'idle'
              AND a.backend_type = 'client backend'
              AND a.global_pid IS DISTINCT FROM citus_backend_gpid()
            ORDER BY a.query_start NULLS LAST`;

/** The same on a plain PostgreSQL. */
export const ACTIVITY_ON_POSTGRES = `SELECT NULL AS global_pid, pid, usename, state, wait_event_type, wait_event,
                  query_start, left(query, ${QUERY_PREVIEW}) AS query, false AS is_worker_query,
                  application_name, NULL AS nodeid
             FROM pg_stat_activity
            WHERE state IS DISTINCT FROM 'idle' AND backend_type = 'client backend'
              AND pid <> pg_backend_pid()
            ORDER BY query_start NULLS LAST`;

/** Shard placements after a cursor: $1 table, $2 node id, $3 placement id cursor, $4 limit. */
export const PLACEMENTS = `SELECT p.placementid, s.shardid, s.logicalrelid::text AS table_name,
              s.shardminvalue, s.shardmaxvalue, n.nodeid, n.nodename, n.nodeport, sz.size
         FROM pg_dist_shard s
         JOIN pg_dist_placement p ON p.shardid = s.shardid
         JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'
         LEFT JOIN (SELECT shard_id, max(size) AS size FROM citus_shard_sizes() GROUP BY shard_id) sz
                ON sz.shard_id = s.shardid
        WHERE ($1::text IS NULL OR s.logicalrelid = to_regclass($1))
          AND ($2::int IS NULL OR n.nodeid = $2)
          AND ($3::bigint IS NULL OR p.placementid > $3)
        ORDER BY p.placementid
        LIMIT $4`;

/** Users and notes per tenant: $1 tenant ids. */
export const TENANT_COUNTS = `SELECT tenant_id, 'users' AS kind, count(*) AS n FROM users
        WHERE tenant_id = ANY($1::bigint[]) GROUP BY tenant_id
       UNION ALL
       SELECT tenant_id, 'notes' AS kind, count(*) AS n FROM notes
        WHERE tenant_id = ANY($1::bigint[]) GROUP BY tenant_id`;

/** The shard holding each tenant ($1 ids), whether it holds it alone, and its node. */
export const TENANT_PLACEMENTS = `SELECT t.id AS tenant_id, s.shardid, s.shardminvalue = s.shardmaxvalue AS isolated,
              n.nodeid, n.nodename, n.nodeport
         FROM unnest($1::bigint[]) AS t(id)
         JOIN pg_dist_shard s
           ON s.shardid = get_shard_id_for_distribution_column('${TENANT_TABLE}', t.id)
         JOIN pg_dist_placement p ON p.shardid = s.shardid
         JOIN pg_dist_node n ON n.groupid = p.groupid AND n.noderole = 'primary'`;

/** citus_stat_tenants rows of tenants $1, with the tracking setting on every row. */
export const TENANT_LOAD = `SELECT current_setting('citus.stat_tenants_track') AS setting, st.*
         FROM (SELECT 1) AS one
         LEFT JOIN citus_stat_tenants st
           ON st.tenant_attribute = ANY($1::text[])
          AND st.colocation_id = (SELECT colocationid FROM pg_dist_partition
                                   WHERE logicalrelid = '${TENANT_TABLE}'::regclass)`;

/**
 * Run on every node: '' when its sessions commit synchronously, else where they do not. A stored
 * setting may spell off as PostgreSQL accepts it for this enum: off, false, no, 0, any case.
 */
export const ASYNC_COMMIT_PROBE = `
  SELECT concat_ws('; ',
    (SELECT format('synchronous_commit = off from the %s', source) FROM pg_settings
      WHERE name = 'synchronous_commit' AND setting = 'off'
        AND source NOT IN ('database', 'user', 'database user')),
    (SELECT string_agg(format('synchronous_commit = off for %s in %s',
                              coalesce((SELECT quote_ident(rolname) FROM pg_roles
                                         WHERE oid = s.setrole), 'every role'),
                              coalesce((SELECT quote_ident(datname) FROM pg_database
                                         WHERE oid = s.setdatabase), 'every database')),
                       '; ')
       FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
      WHERE c.setting ~* '^synchronous_commit=(off|false|no|0)$'))`;
