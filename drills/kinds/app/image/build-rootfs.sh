#!/bin/bash
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell ("$1" = the rootfs)
# Build the root file system of the offline reference-app image with mmdebstrap.
#
# usage: build-rootfs.sh OUTPUT.tar        (run as root; needs mmdebstrap and Debian's mirrors)
#
# Slim: Debian bookworm "essential" + python3 and the app's three libraries from Debian
# (python3-aiohttp, python3-psycopg, python3-redis), without recommends, docs, man pages and
# translations, and an unprivileged account app (uid/gid 10001). Neither the app (refapp.py)
# nor the entrypoint is part of the rootfs (the Dockerfile copies them), so editing them never
# re-runs this script. drills/images/build.sh caches OUTPUT.tar keyed by this file and
# drills/images/common.sh.
# shellcheck source=../../../images/common.sh
. "$(dirname "$(readlink -f "$0")")/../../../images/common.sh" "$@"  # out, partial, sources, slim_opts

mmdebstrap "${slim_opts[@]}" \
  --essential-hook='printf "app:x:10001:10001::/app:/usr/sbin/nologin\n" >>"$1"/etc/passwd' \
  --essential-hook='printf "app:x:10001:\n" >>"$1"/etc/group' \
  --include=python3,python3-aiohttp,python3-psycopg,python3-redis \
  --customize-hook='mkdir -p "$1"/app' \
  bookworm "$partial" "${sources[@]}"
mv -f "$partial" "$out"
