#!/usr/bin/env bash
# `npm run up`: database (local Citus coordinator + 2 workers when Citus is installed, otherwise one
# PostgreSQL; or the DATABASE_URL you export), migrations, then the API on $PORT (default 3000).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" ]]; then
  npm run --silent db:up
  set -a
  # shellcheck disable=SC1091
  source .db/dev.env
  set +a
fi

npm run --silent build
npx typeorm migration:run -d dist/src/database/data-source.js

export NODE_ENV="${NODE_ENV:-development}"
echo "[up] API on http://localhost:${PORT:-3000}/api/v1, Swagger UI on http://localhost:${PORT:-3000}/docs"
echo "[up] stop with Ctrl-C; stop the database with: npm run db:down"
exec node dist/src/main.js
