#!/usr/bin/env bash
# One-shot: tells the coordinator who it is and registers the workers. Idempotent, so it is safe
# to run on every `docker compose up`; add a worker by appending it to CITUS_WORKERS.
set -euo pipefail
: "${PGHOST:=coordinator}" "${PGUSER:=postgres}" "${PGDATABASE:=postgres}"
export PGHOST PGUSER PGDATABASE

until pg_isready -q; do sleep 1; done
psql -v ON_ERROR_STOP=1 -c "SELECT citus_set_coordinator_host('${PGHOST}', 5432)"
for worker in ${CITUS_WORKERS:-worker1 worker2}; do
  until pg_isready -q -h "$worker"; do sleep 1; done
  psql -v ON_ERROR_STOP=1 -c "SELECT citus_add_node('${worker}', 5432)"
done
psql -c "SELECT nodename, nodeport, noderole, isactive FROM pg_dist_node ORDER BY nodeid"
