#!/bin/bash
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell ("$1" = the rootfs)
# Build the root file system of the offline Redis 7 image with mmdebstrap.
#
# usage: build-rootfs.sh OUTPUT.tar        (run as root; needs mmdebstrap and Debian's mirrors)
#
# Slim: Debian bookworm "essential" + redis-server (redis-tools brings redis-cli), without docs,
# man pages and translations. The entrypoint is not part of the rootfs (the Dockerfile copies it).
# scripts/setup_docker.sh caches OUTPUT.tar keyed by this file's content.
# Mirrors: DRILLS_DEBIAN_MIRROR, DRILLS_DEBIAN_SECURITY_MIRROR.
set -euo pipefail

out="${1:?usage: build-rootfs.sh OUTPUT.tar}"
[ "$(id -u)" = 0 ] || { echo "build-rootfs.sh: must run as root (mmdebstrap root mode)" >&2; exit 1; }
mirror="${DRILLS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DRILLS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
partial="${out%.tar}.partial.tar"   # mmdebstrap picks the format from the extension
trap 'rm -f "$partial"' EXIT

# Options shared with images/postgres/build-rootfs.sh: keep the two lists in step.
slim_opts=(
  --variant=essential
  # bookworm's init-system-helpers pulls usrmerge and with it perl (~47 MB); merge /usr ourselves
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --aptopt='Apt::Install-Recommends "false"'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/i18n/*'
  --dpkgopt='path-exclude=/usr/share/bash-completion/*'
  --customize-hook='rm -rf "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old "$1"/var/log/* "$1"/var/cache/ldconfig/aux-cache'
)

# uid/gid 999 as in the official image, created before redis-server's postinst runs adduser
mmdebstrap "${slim_opts[@]}" \
  --essential-hook='printf "redis:x:999:999::/data:/usr/sbin/nologin\n" >>"$1"/etc/passwd' \
  --essential-hook='printf "redis:x:999:\n" >>"$1"/etc/group' \
  --include=redis-server,redis-tools \
  --customize-hook='mkdir -p "$1"/data && chown 999:999 "$1"/data' \
  bookworm "$partial" \
  "deb $mirror bookworm main" \
  "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main"
mv -f "$partial" "$out"
