#!/bin/bash
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell ("$1" = the rootfs)
# Build the root file system of the offline Redis 7 image with mmdebstrap.
#
# usage: build-rootfs.sh OUTPUT.tar        (run as root; needs mmdebstrap and Debian's mirrors)
#
# Slim: Debian bookworm "essential" + redis-server (redis-tools brings redis-cli), without docs,
# man pages and translations. The entrypoint is not part of the rootfs (the Dockerfile copies it).
# drills/images/build.sh caches OUTPUT.tar keyed by this file and drills/images/common.sh.
# shellcheck source=../../../images/common.sh
. "$(dirname "$(readlink -f "$0")")/../../../images/common.sh" "$@"  # out, partial, sources, slim_opts

# uid/gid 999 as in the official image, created before redis-server's postinst runs adduser
mmdebstrap "${slim_opts[@]}" \
  --essential-hook='printf "redis:x:999:999::/data:/usr/sbin/nologin\n" >>"$1"/etc/passwd' \
  --essential-hook='printf "redis:x:999:\n" >>"$1"/etc/group' \
  --include=redis-server,redis-tools \
  --customize-hook='mkdir -p "$1"/data && chown 999:999 "$1"/data' \
  bookworm "$partial" "${sources[@]}"
mv -f "$partial" "$out"
