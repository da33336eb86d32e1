#!/usr/bin/env bash
# The accident: a DELETE without WHERE on the bot's leads, run by hand in production.
set -euo pipefail
export PGPASSWORD="$POSTGRES_PASSWORD"
psql --no-psqlrc -v ON_ERROR_STOP=1 -q --host="$POSTGRES_HOST" --port="${POSTGRES_PORT:-5432}" \
  --username="$POSTGRES_USER" --dbname="$POSTGRES_DB" -c "DELETE FROM leads"
