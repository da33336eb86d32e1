#!/bin/bash
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell ("$1" = the rootfs)
# Build the root file system of the offline HAProxy 2.6 image with mmdebstrap. The rootfs built
# (31 s, 70 MB tar); the image itself is UNTESTED (no Docker engine when this was written).
#
# usage: build-rootfs.sh OUTPUT.tar        (run as root; needs mmdebstrap and Debian's mirrors)
#
# Slim: Debian bookworm "essential" + haproxy, without docs, man pages and translations.
# Laid out as the official haproxy:2.6 image: the haproxy account with uid/gid 99, the
# configuration at /usr/local/etc/haproxy/haproxy.cfg, /var/lib/haproxy its home.
# drills/images/build.sh caches OUTPUT.tar keyed by this file and drills/images/common.sh.
# shellcheck source=../../../images/common.sh
. "$(dirname "$(readlink -f "$0")")/../../../images/common.sh" "$@"  # out, partial, sources, slim_opts

# uid/gid 99 as in the official image. Not created before the package: adduser in haproxy's
# postinst refuses an existing "haproxy" below the system range (100-999); it creates its own
# system account, which is then renumbered.
mmdebstrap "${slim_opts[@]}" \
  --include=haproxy \
  --customize-hook='chroot "$1" groupmod -g 99 haproxy && chroot "$1" usermod -u 99 -g 99 haproxy' \
  --customize-hook='mkdir -p "$1"/usr/local/etc/haproxy "$1"/var/lib/haproxy
    chown -R 99:99 "$1"/var/lib/haproxy
    rm -f "$1"/etc/haproxy/haproxy.cfg' \
  bookworm "$partial" "${sources[@]}"
mv -f "$partial" "$out"
