#!/usr/bin/env bash
# Step 4 of their scenario 1: restore the last good dump.
set -euo pipefail
dump=${1:?usage: restore-db.sh /backups/five_keys_LAST_GOOD.dump}
export PGPASSWORD="$POSTGRES_PASSWORD"
pg_restore \
  --clean --if-exists \
  --dbname="$POSTGRES_DB" \
  --host="$POSTGRES_HOST" \
  --port="${POSTGRES_PORT:-5432}" \
  --username="$POSTGRES_USER" \
  "$dump"
