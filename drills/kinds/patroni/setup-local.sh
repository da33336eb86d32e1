# shellcheck shell=bash
# The HA managers of the failover drills, one apt call for the three kinds that need them:
# Patroni, with etcd (kind etcd) and HAProxy (kind haproxy) in front; no service started.
# Sourced by scripts/setup.sh (say, as_root, apt_install and go_build are its own), in the
# registry's order: install or build what the local runtime needs to run this kind, only
# when missing. The compose runtime has the kind's image instead.
missing=()
command -v patroni >/dev/null || missing+=(patroni)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if [ ${#missing[@]} -eq 0 ]; then
  say "HA managers: present (patroni, etcd, haproxy)"
else
  say "HA managers: installing ${missing[*]} (apt; no system service is started)"
  apt_install "${missing[@]}"
fi
