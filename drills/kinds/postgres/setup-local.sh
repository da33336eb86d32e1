# shellcheck shell=bash
# PostgreSQL 15's server binaries (apt); no cluster is created or started.
# Sourced by scripts/setup.sh (say, as_root, apt_install and go_build are its own), in the
# registry's order: install or build what the local runtime needs to run this kind, only
# when missing. The compose runtime has the kind's image instead.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -x "${DRILLS_PG_BINDIR:-/nonexistent}/initdb" ]; then
  # shellcheck disable=SC2012  # Debian's version directories: plain names
  say "PostgreSQL server: present ($(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1))"
else
  say "PostgreSQL server: installing postgresql-15 (apt; no cluster is created or started)"
  as_root mkdir -p /etc/postgresql-common/createcluster.d
  as_root sh -c 'echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/drills-no-main-cluster.conf'
  apt_install postgresql-15
fi
