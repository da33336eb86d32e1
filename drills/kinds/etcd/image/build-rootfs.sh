#!/bin/bash
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell ("$1" = the rootfs)
# Build the root file system of the offline etcd 3.4 image with mmdebstrap (the rootfs built:
# 96 MB tar; the image itself is UNTESTED, no Docker engine when this was written).
#
# usage: build-rootfs.sh OUTPUT.tar        (run as root; needs mmdebstrap and Debian's mirrors)
#
# Slim: Debian bookworm "essential" + etcd-server (the server) and etcd-client (etcdctl, for
# the template's health check), without docs, man pages and translations. It runs as root,
# as the official quay.io/coreos/etcd image does; its data lives in /var/lib/etcd (a volume).
# drills/images/build.sh caches OUTPUT.tar keyed by this file and drills/images/common.sh.
# shellcheck source=../../../images/common.sh
. "$(dirname "$(readlink -f "$0")")/../../../images/common.sh" "$@"  # out, partial, sources, slim_opts

# etcd-server's postinst creates its account with adduser and enables a systemd unit that
# never runs here; the packaged /etc/default/etcd is read by that unit only.
mmdebstrap "${slim_opts[@]}" \
  --include=etcd-server,etcd-client \
  --customize-hook='mkdir -p "$1"/var/lib/etcd && chmod 700 "$1"/var/lib/etcd' \
  bookworm "$partial" "${sources[@]}"
mv -f "$partial" "$out"
