#!/usr/bin/env bash
# The bot's daily dump, as their plan writes it (pg_dump --format=custom).
set -euo pipefail
export PGPASSWORD="$POSTGRES_PASSWORD"
backup_dir=${BACKUP_DIR:-/backups}
pg_dump \
  --format=custom \
  --file="$backup_dir/five_keys_$(date +%Y%m%d_%H%M%S).dump" \
  --dbname="$POSTGRES_DB" \
  --host="$POSTGRES_HOST" \
  --port="${POSTGRES_PORT:-5432}" \
  --username="$POSTGRES_USER"
