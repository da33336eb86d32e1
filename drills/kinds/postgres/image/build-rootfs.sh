#!/bin/bash
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell ("$1" = the rootfs)
# Build the root file system of the offline PostgreSQL 15 image with mmdebstrap.
#
# usage: build-rootfs.sh OUTPUT.tar        (run as root; needs mmdebstrap and Debian's mirrors)
#
# Slim: Debian bookworm "essential" + postgresql-15, without docs, man pages, translations,
# LLVM JIT and perl. The entrypoint is not part of the rootfs (the Dockerfile copies it), so
# editing it never re-runs this script. drills/images/build.sh caches OUTPUT.tar keyed by
# this file and drills/images/common.sh.
# shellcheck source=../../../images/common.sh
. "$(dirname "$(readlink -f "$0")")/../../../images/common.sh" "$@"  # out, partial, sources, slim_opts

# uid/gid 999 as in the official image; created before the packages so that their
# maintainer scripts find the user instead of allocating another id.
essential_hooks=(
  --essential-hook='printf "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n" >>"$1"/etc/passwd'
  --essential-hook='printf "postgres:x:999:\n" >>"$1"/etc/group'
  # otherwise postgresql-common's postinst creates a cluster in /var/lib/postgresql/15/main
  --essential-hook='mkdir -p "$1"/etc/postgresql-common/createcluster.d && printf "create_main_cluster = false\n" >"$1"/etc/postgresql-common/createcluster.d/docker.conf'
)

# A path-exclude on the postgres man pages breaks postgresql-client-15's postinst
# (update-alternatives wants psql.1.gz), so they are deleted after installation instead.
# postgresql-15 hard-depends on libllvm14 + libz3-4 (JIT, ~130 MB) and, through
# postgresql-common, on perl: none is needed to run /usr/lib/postgresql/15/bin, so they are
# purged with --force-depends (the image has no apt; dpkg's "broken" state does not matter).
customize_hooks=(
  --customize-hook='rm -rf "$1"/usr/share/postgresql/15/man'
  --customize-hook='chroot "$1" dpkg --purge --force-depends libllvm14 libz3-4 perl perl-modules-5.36 libperl5.36 2>&1 | grep -v "^dpkg: warning" || true'
  --customize-hook='rm -rf "$1"/usr/lib/postgresql/15/lib/llvmjit* "$1"/usr/lib/postgresql/15/lib/bitcode'
  --customize-hook='sed -ri "s/^#?jit = on.*/jit = off/" "$1"/usr/share/postgresql/15/postgresql.conf.sample'
  # /usr/bin/psql & co. point to pg_wrapper, a perl script that is gone now: point them at the
  # real binaries so that `docker exec CONTAINER /usr/bin/psql` works whatever PATH is.
  --customize-hook='for l in "$1"/usr/bin/*; do
      [ -L "$l" ] && [ "$(readlink "$l")" = ../share/postgresql-common/pg_wrapper ] || continue
      n="${l##*/}"
      if [ -x "$1/usr/lib/postgresql/15/bin/$n" ]; then ln -sfn "../lib/postgresql/15/bin/$n" "$l"; else rm -f "$l"; fi
    done'
  --customize-hook='mkdir -p "$1"/docker-entrypoint-initdb.d "$1"/var/lib/postgresql/data
    chown 999:999 "$1"/var/lib/postgresql "$1"/var/lib/postgresql/data
    chmod 700 "$1"/var/lib/postgresql/data'
)

# libnss-wrapper: lets the entrypoint run initdb under an arbitrary --user uid (official contract).
mmdebstrap "${slim_opts[@]}" "${essential_hooks[@]}" \
  --include=postgresql-15,libnss-wrapper \
  "${customize_hooks[@]}" \
  bookworm "$partial" "${sources[@]}"
mv -f "$partial" "$out"
