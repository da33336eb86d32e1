#!/bin/bash
# The standby's entrypoint: on its first start, clone the primary with pg_basebackup
# (-R writes standby.signal and primary_conninfo, with the password it was given: a
# passfile that is gone afterwards would leave the standby unable to stream; -C -S makes
# its replication slot), then hand over to the image's entrypoint: a hot standby.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  until setpriv --reuid=postgres --regid=postgres --init-groups \
      pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT"; do sleep 0.2; done
  PGPASSWORD="$REPLICATION_PASSWORD" setpriv --reuid=postgres --regid=postgres --init-groups \
    pg_basebackup -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U replicator -w -D "$PGDATA" \
      -X stream -R -C -S replica_slot --checkpoint=fast
fi
exec docker-entrypoint.sh "$@"
