#!/usr/bin/env bash
# VENTRA's daily backup (03:00 UTC): pg_dump -> gzip -> (S3/R2 in production).
# Usage: BACKUP_DIR=backups scripts/backup-db.sh
set -euo pipefail
backup_dir=${BACKUP_DIR:-backups}
mkdir -p "$backup_dir"
file="$backup_dir/ventra_$(date -u +%Y%m%d_%H%M%S).sql.gz"
docker compose exec -T db pg_dump -U ventra --clean --if-exists ventra | gzip > "$file.partial"
mv "$file.partial" "$file"
ln -sfn "$(basename "$file")" "$backup_dir/latest.sql.gz"
echo "backup: $file ($(stat -c %s "$file") bytes)"
