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

if [[ -z "${SMTP_URL:-}" ]]; then
  # A local sink for the verification and reset mails: it prints each token and keeps the mail
  # in .db/mail/. It stops with the service.
  export MAIL_SINK_PORT="${MAIL_SINK_PORT:-1025}"
  node -r ts-node/register/transpile-only tools/mail/sink.ts &
  sink=$!
  trap 'kill $sink 2>/dev/null' EXIT
  export SMTP_URL="smtp://127.0.0.1:${MAIL_SINK_PORT}"
fi

export NODE_ENV="${NODE_ENV:-development}"
echo "[up] web console on http://localhost:${PORT:-3000}/ (operators: /admin), API on http://localhost:${PORT:-3000}/api/v1, Swagger UI on http://localhost:${PORT:-3000}/docs"
echo "[up] stop with Ctrl-C; stop the database with: npm run db:down"
node dist/src/main.js &
service=$!
# Signals go on to the service, which shuts down gracefully; then the mail sink stops.
trap 'kill -TERM "$service" 2>/dev/null' TERM INT
wait "$service" || wait "$service"
