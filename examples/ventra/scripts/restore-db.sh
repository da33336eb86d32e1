#!/usr/bin/env bash
# VENTRA's restore (runbook step 3): ./scripts/restore-db.sh backups/latest.sql.gz
set -euo pipefail
file=${1:?usage: restore-db.sh <backup-file.sql.gz>}
gzip -t "$file"
# wait for the new server to accept connections, as the runbook's operator would
for _ in $(seq 60); do
  docker compose exec -T db pg_isready -U ventra -q && break
  sleep 1
done
gunzip -c "$file" | docker compose exec -T db psql -U ventra -d ventra -v ON_ERROR_STOP=1 -q
echo "restored: $file"
