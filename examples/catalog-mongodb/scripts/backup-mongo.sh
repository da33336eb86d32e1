#!/usr/bin/env bash
# PROKVANT's daily dump, its MongoDB part (their scripts/backup.sh): mongodump of every
# database into one gzip archive, taken inside the container, written to BACKUP_DIR.
#
# drills' offline stand-in (FerretDB over PostgreSQL) has no mongodump: there the same job
# is what a FerretDB team runs, pg_dump of the PostgreSQL database FerretDB keeps all in.
# The password never goes into an argv (ps shows those, the host's included): it reaches
# the container by name in the environment of this one command, and mongodump reads it
# from a 0600 file (--config, mongo-tools 100.3+).
set -euo pipefail
stamp=$(date +%Y%m%d_%H%M%S)
if docker compose exec -T mongo sh -c 'command -v mongodump' >/dev/null 2>&1; then
  docker compose exec -T -e MONGO_PASSWORD mongo sh -c '
    umask 077; conf=$(mktemp); trap "rm -f $conf" EXIT
    printf "password: \"%s\"\n" "$MONGO_PASSWORD" > "$conf"
    mongodump --quiet --archive --gzip --config "$conf" --username root \
      --authenticationDatabase admin --port "${MONGO_PORT:-27017}"' \
    > "${BACKUP_DIR:?}/mongo_$stamp.archive.gz"
else
  PGPASSWORD=$MONGO_PASSWORD docker compose exec -T -e PGPASSWORD mongo \
    pg_dump --format=custom --host=/run/ferretdb --username=root --dbname=ferretdb \
    > "${BACKUP_DIR:?}/mongo_$stamp.ferretdb.dump"
fi
