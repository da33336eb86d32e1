#!/bin/sh
# failover.sh REPLICA...: promote the replica that received the most of the lost primary's
# WAL, and wait until it accepts writes. Each REPLICA is host:port; PGUSER, PGDATABASE and
# PGPASSWORD say how to log in. With `ANY 1`, a commit was acknowledged once *either*
# replica had it: promoting a fixed one can lose the writes only the other confirmed.
set -eu
best="" best_lsn=""
for replica in "$@"; do
  host=${replica%:*} port=${replica##*:}
  lsn=$(psql -X -tA -h "$host" -p "$port" -c "SELECT pg_last_wal_receive_lsn()") || continue
  echo "$replica received up to $lsn"
  if [ -z "$best" ] || [ "$(psql -X -tA -h "$host" -p "$port" \
      -c "SELECT pg_wal_lsn_diff('$lsn', '$best_lsn') > 0")" = t ]; then
    best=$replica best_lsn=$lsn
  fi
done
[ -n "$best" ] || { echo "no replica answered" >&2; exit 1; }
echo "promoting $best"
psql -X -v ON_ERROR_STOP=1 -tA -h "${best%:*}" -p "${best##*:}" \
  -c "SELECT pg_promote(wait => true, wait_seconds => 60)"
