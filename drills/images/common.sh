# shellcheck shell=bash disable=SC2016,SC2034  # hooks expand in mmdebstrap; vars used by the caller
# Sourced by images/*/build-rootfs.sh OUTPUT.tar: arguments, mirrors, and the mmdebstrap
# options for the smallest useful Debian userland (bookworm "essential", no docs, man pages
# or translations). scripts/setup_docker.sh keys its rootfs cache on this file too.
# Mirrors: DRILLS_DEBIAN_MIRROR, DRILLS_DEBIAN_SECURITY_MIRROR.
set -euo pipefail

out="${1:?usage: build-rootfs.sh OUTPUT.tar}"
[ "$(id -u)" = 0 ] || { echo "build-rootfs.sh: must run as root (mmdebstrap root mode)" >&2; exit 1; }
mirror="${DRILLS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DRILLS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
partial="${out%.tar}.partial.tar"   # mmdebstrap picks the format from the extension
trap 'rm -f "$partial"' EXIT

sources=(
  "deb $mirror bookworm main"
  "deb $mirror bookworm-updates main"
  "deb $security bookworm-security main"
)
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
