#!/usr/bin/env bash
# Their restore (scripts/restore.sh), the MongoDB part: the dump streamed into the new
# server with mongorestore --drop (each collection replaced by the dump's).
#
# On drills' offline stand-in: pg_restore --clean into FerretDB's PostgreSQL database,
# then a restart, because FerretDB keeps the collections it has seen in memory. The
# password never goes into an argv (see backup-mongo.sh).
set -euo pipefail
dump=${1:?usage: restore-mongo.sh BACKUP (mongo_*.archive.gz or mongo_*.ferretdb.dump)}
case $dump in
  *.archive.gz)
    docker compose exec -T -e MONGO_PASSWORD mongo sh -c '
      umask 077; conf=$(mktemp); trap "rm -f $conf" EXIT
      printf "password: \"%s\"\n" "$MONGO_PASSWORD" > "$conf"
      mongorestore --quiet --archive --gzip --drop --config "$conf" --username root \
        --authenticationDatabase admin --port "${MONGO_PORT:-27017}"' < "$dump" ;;
  *.ferretdb.dump)
    PGPASSWORD=$MONGO_PASSWORD docker compose exec -T -e PGPASSWORD mongo \
      pg_restore --clean --if-exists --no-owner --host=/run/ferretdb --username=root \
      --dbname=ferretdb < "$dump"
    docker compose restart mongo ;;
  *) echo "restore-mongo.sh: $dump is neither a mongodump archive nor a FerretDB dump" >&2
     exit 2 ;;
esac
