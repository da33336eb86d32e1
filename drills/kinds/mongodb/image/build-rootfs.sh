#!/bin/bash
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell ("$1" = the rootfs)
# Build the root file system of the offline MongoDB stand-in image with mmdebstrap.
#
# usage: build-rootfs.sh OUTPUT.tar        (run as root; needs mmdebstrap and Debian's mirrors)
#
# Slim: Debian bookworm "essential" + postgresql-15 (the server FerretDB keeps its data in,
# and pg_isready for the health check), without docs, man pages, translations, LLVM JIT and
# perl, as drills/kinds/postgres/image/ does. FerretDB itself (a static Go binary built on
# the host) and the entrypoint are not part of the rootfs: the Dockerfile copies them, so a
# new binary never re-runs this script. drills/images/build.sh caches OUTPUT.tar keyed by
# this file and drills/images/common.sh.
# shellcheck source=../../../images/common.sh
. "$(dirname "$(readlink -f "$0")")/../../../images/common.sh" "$@"  # out, partial, sources, slim_opts

# uid/gid 999 is "mongodb", as in the official mongo image; created before the packages so
# that postgresql-common's postinst gives its own "postgres" account another id.
essential_hooks=(
  --essential-hook='printf "mongodb:x:999:999::/data/db:/usr/sbin/nologin\n" >>"$1"/etc/passwd'
  --essential-hook='printf "mongodb:x:999:\n" >>"$1"/etc/group'
  # otherwise postgresql-common's postinst creates a cluster in /var/lib/postgresql/15/main
  --essential-hook='mkdir -p "$1"/etc/postgresql-common/createcluster.d && printf "create_main_cluster = false\n" >"$1"/etc/postgresql-common/createcluster.d/docker.conf'
)

# Same slimming as the PostgreSQL image (see its build-rootfs.sh for why each step).
customize_hooks=(
  --customize-hook='rm -rf "$1"/usr/share/postgresql/15/man'
  --customize-hook='chroot "$1" dpkg --purge --force-depends libllvm14 libz3-4 perl perl-modules-5.36 libperl5.36 2>&1 | grep -v "^dpkg: warning" || true'
  --customize-hook='rm -rf "$1"/usr/lib/postgresql/15/lib/llvmjit* "$1"/usr/lib/postgresql/15/lib/bitcode'
  --customize-hook='sed -ri "s/^#?jit = on.*/jit = off/" "$1"/usr/share/postgresql/15/postgresql.conf.sample'
  --customize-hook='for l in "$1"/usr/bin/*; do
      [ -L "$l" ] && [ "$(readlink "$l")" = ../share/postgresql-common/pg_wrapper ] || continue
      n="${l##*/}"
      if [ -x "$1/usr/lib/postgresql/15/bin/$n" ]; then ln -sfn "../lib/postgresql/15/bin/$n" "$l"; else rm -f "$l"; fi
    done'
  --customize-hook='mkdir -p "$1"/data/db && chown 999:999 "$1"/data/db && chmod 700 "$1"/data/db'
)

mmdebstrap "${slim_opts[@]}" "${essential_hooks[@]}" \
  --include=postgresql-15 \
  "${customize_hooks[@]}" \
  bookworm "$partial" "${sources[@]}"
mv -f "$partial" "$out"
