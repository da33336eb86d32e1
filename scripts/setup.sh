#!/usr/bin/env bash
# Install what drills needs, skipping every step already done. Safe to run again.
#   - Python 3.11+ venv in .venv with drills and its dependencies (pip, from PyPI)
#   - PostgreSQL 15 server binaries and redis-server (apt), only when missing
# Package installs never start system services: drills runs its own servers.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root to run: $* (install it yourself, or run as root)"; exit 1; fi
}

apt_install() {  # apt_install PACKAGE... ; no service is started by the install
  local added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    added_policy=1
  fi
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
  [ -z "$added_policy" ] || as_root rm -f /usr/sbin/policy-rc.d
}

# 1. server binaries
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -x "${DRILLS_PG_BINDIR:-/nonexistent}/initdb" ]; then
  say "PostgreSQL server: present ($(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1))"
else
  say "PostgreSQL server: installing postgresql-15 (apt; no cluster is created or started)"
  as_root mkdir -p /etc/postgresql-common/createcluster.d
  as_root sh -c 'echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/drills-no-main-cluster.conf'
  apt_install postgresql-15
fi
if command -v redis-server >/dev/null || [ -x "${DRILLS_REDIS_SERVER:-/nonexistent}" ]; then
  say "Redis server: present ($(command -v redis-server || echo "$DRILLS_REDIS_SERVER"))"
else
  say "Redis server: installing redis-server (apt; the system service is not started)"
  apt_install redis-server
fi

# 2. Python environment
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "need Python 3.11 or newer as '$PY' (set PYTHON=/path/to/python3.11)"; exit 1
fi
stamp=".venv/.drills-installed"
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/drill ]; then
  say "Python environment: up to date (.venv)"
else
  say "Python environment: installing drills and its dependencies into .venv"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
say "ready"
