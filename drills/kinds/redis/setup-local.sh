# shellcheck shell=bash
# redis-server (apt; Sentinel is redis-server --sentinel); the system service is not started.
# Sourced by scripts/setup.sh (say, as_root, apt_install and go_build are its own), in the
# registry's order: install or build what the local runtime needs to run this kind, only
# when missing. The compose runtime has the kind's image instead.
if command -v redis-server >/dev/null || [ -x "${DRILLS_REDIS_SERVER:-/nonexistent}" ]; then
  say "Redis server: present ($(command -v redis-server || echo "$DRILLS_REDIS_SERVER"))"
else
  say "Redis server: installing redis-server (apt; the system service is not started)"
  apt_install redis-server
fi
