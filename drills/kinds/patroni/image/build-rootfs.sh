#!/bin/bash
# shellcheck disable=SC2016  # the hooks are expanded by mmdebstrap's shell ("$1" = the rootfs)
# Build the root file system of the offline Patroni image with mmdebstrap. The rootfs built
# (51 s, 243 MB tar); the image itself is UNTESTED (no Docker engine when this was written).
#
# usage: build-rootfs.sh OUTPUT.tar        (run as root; needs mmdebstrap and Debian's mirrors)
#
# Debian bookworm "essential" + postgresql-15 + patroni 3.0.2 with python3-etcd (its etcd3
# DCS imports it) and python3-psycopg2, without docs, man pages and translations; LLVM JIT
# purged as in the PostgreSQL image. perl stays: patroni needs none of it, but purging it
# under python3's feet is not worth the 40 MB here. Patroni runs as postgres (uid/gid 999).
# drills/images/build.sh caches OUTPUT.tar keyed by this file and drills/images/common.sh.
# shellcheck source=../../../images/common.sh
. "$(dirname "$(readlink -f "$0")")/../../../images/common.sh" "$@"  # out, partial, sources, slim_opts

# uid/gid 999 as in the PostgreSQL image, created before the packages so that their
# maintainer scripts find the account instead of allocating another id.
essential_hooks=(
  --essential-hook='printf "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n" >>"$1"/etc/passwd'
  --essential-hook='printf "postgres:x:999:\n" >>"$1"/etc/group'
  # otherwise postgresql-common's postinst creates a cluster in /var/lib/postgresql/15/main
  --essential-hook='mkdir -p "$1"/etc/postgresql-common/createcluster.d && printf "create_main_cluster = false\n" >"$1"/etc/postgresql-common/createcluster.d/docker.conf'
)

customize_hooks=(
  --customize-hook='rm -rf "$1"/usr/share/postgresql/15/man'
  --customize-hook='chroot "$1" dpkg --purge --force-depends libllvm14 libz3-4 2>&1 | grep -v "^dpkg: warning" || true'
  --customize-hook='rm -rf "$1"/usr/lib/postgresql/15/lib/llvmjit* "$1"/usr/lib/postgresql/15/lib/bitcode'
  --customize-hook='sed -ri "s/^#?jit = on.*/jit = off/" "$1"/usr/share/postgresql/15/postgresql.conf.sample'
  # Patroni creates its data directory (0700) inside the volume, which takes this owner
  # (mmdebstrap empties /run when it finishes: the Dockerfile makes the socket directory)
  --customize-hook='mkdir -p "$1"/var/lib/postgresql/data
    chown 999:999 "$1"/var/lib/postgresql "$1"/var/lib/postgresql/data
    chmod 700 "$1"/var/lib/postgresql/data'
  # the package's systemd unit and /etc/patroni never run here (drills mounts patroni.yml);
  # fail the build here if Patroni's etcd3 DCS or PostgreSQL driver cannot be imported
  --customize-hook='chroot "$1" python3 -c "import etcd, psycopg2, patroni" '
)

mmdebstrap "${slim_opts[@]}" "${essential_hooks[@]}" \
  --include=postgresql-15,patroni,python3-etcd,python3-psycopg2 \
  "${customize_hooks[@]}" \
  bookworm "$partial" "${sources[@]}"
mv -f "$partial" "$out"
