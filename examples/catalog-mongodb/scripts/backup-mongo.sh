#!/usr/bin/env bash
# PROKVANT's daily dump, its MongoDB part (their scripts/backup.sh): mongodump of every
# database into one gzip archive, taken inside the container, written to BACKUP_DIR.
#
# drills' offline stand-in (FerretDB over PostgreSQL) has no mongodump: there the same job
# is what a FerretDB team runs, pg_dump of the PostgreSQL database FerretDB keeps all in.
# The password reaches the container in its environment for this one command.
set -euo pipefail
stamp=$(date +%Y%m%d_%H%M%S)
if docker compose exec -T mongo sh -c 'command -v mongodump' >/dev/null 2>&1; then
  docker compose exec -T -e MONGO_PASSWORD mongo sh -c \
    'exec mongodump --quiet --archive --gzip --username root --password "$MONGO_PASSWORD" \
       --authenticationDatabase admin --port "${MONGO_PORT:-27017}"' \
    > "${BACKUP_DIR:?}/mongo_$stamp.archive.gz"
else
  docker compose exec -T -e PGPASSWORD="$MONGO_PASSWORD" mongo \
    pg_dump --format=custom --host=/run/ferretdb --username=root --dbname=ferretdb \
    > "${BACKUP_DIR:?}/mongo_$stamp.ferretdb.dump"
fi
