#!/usr/bin/env bash
# Install what drills needs, skipping every step already done. Safe to run again.
#   - Python 3.11+ venv in .venv with drills and its dependencies (pip, from PyPI)
#   - what the evidence pack and its tests use (apt), only when missing: pango (the PDF),
#     ssh-keygen (signing), chromium (the report opened as a person would), poppler-utils
#     (the PDF read back), shellcheck (the GitHub Actions example's scripts)
#   - each kind's local server, only what is missing, by drills/kinds/<kind>/setup-local.sh
#     (a kind brings its own): PostgreSQL 15 and redis-server, and Patroni, etcd and HAProxy
#     (apt); Toxiproxy 2.12.0 as .venv/bin/toxiproxy-server (go install through the Go module
#     proxy, Go 1.23+; no Debian package has it); FerretDB v1.24.2, the MongoDB stand-in, as
#     .venv/bin/drills-ferretdb (go build of drills/kinds/mongodb/ferretdb/, Go 1.24+)
#   - actionlint 1.7.12 as .venv/bin/actionlint, for the test of the GitHub Actions example,
#     built the same way with Go 1.25+, only when missing
#   - LazyFS 0.3.0 as .venv/bin/lazyfs (the power-loss fault's file system), built with CMake
#     from ../shared/vendor/lazyfs-0.3.0.tar.gz or $DRILLS_LAZYFS_SOURCE (a tarball or a source
#     tree), else from a clone of its tag 0.3.0; its build tools and libraries from apt; only
#     when missing
# Package installs never start system services: drills runs its own servers.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else say "need root to run: $* (install it yourself, or run as root)"; exit 1; fi
}

apt_install() {  # apt_install PACKAGE... ; no service is started by the install
  local added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    added_policy=1
  fi
  if [ -z "${apt_updated:-}" ]; then  # once per setup, however many kinds install packages
    as_root apt-get update -q >/dev/null
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
  [ -z "$added_policy" ] || as_root rm -f /usr/sbin/policy-rc.d
}

# 1. the evidence pack's tools: the PDF (WeasyPrint needs pango), signatures, and what the
#     tests open the report and the PDF with
missing=()
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v chromium >/dev/null || missing+=(chromium)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if [ ${#missing[@]} -eq 0 ]; then
  say "evidence tools: present (pango, ssh-keygen, chromium, poppler-utils, shellcheck)"
else
  say "evidence tools: installing ${missing[*]} (apt)"
  apt_install "${missing[@]}"
fi

# 2. Python environment
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "need Python 3.11 or newer as '$PY' (set PYTHON=/path/to/python3.11)"; exit 1
fi
stamp=".venv/.drills-installed"
want=$(sha256sum < pyproject.toml | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/drill ]; then
  say "Python environment: up to date (.venv)"
else
  say "Python environment: installing drills and its dependencies into .venv"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev,mongodb]'
  echo "$want" > "$stamp"
fi

# go_build LABEL GO_MINOR PACKAGE@VERSION LDFLAGS TARGET: go install through the Go module
# proxy into TARGET, with Go 1.GO_MINOR or newer. GOFLAGS, GOPROXY, GOCACHE... of the caller
# are respected; the temporary GOBIN goes even on Ctrl-C.
go_tmp=()
trap 'rm -rf "${go_tmp[@]}"' EXIT
go_build() {
  local label=$1 minor=$2 package=$3 ldflags=$4 target=$5 go missing version tmp
  go=$(command -v go || echo /usr/local/go/bin/go)
  missing="install Go 1.$minor or newer (https://go.dev/dl, or Debian's golang-go where it is"
  missing+=" 1.$minor+: bookworm's is 1.19, too old), put go on PATH and run this again"
  [ -x "$go" ] || { say "$label: the Go toolchain is missing: $missing"; exit 1; }
  version=$("$go" env GOVERSION)  # go1.26.8 (a development toolchain says more: tried as is)
  if [[ $version =~ ^go1\.([0-9]+) ]] && (( BASH_REMATCH[1] < minor )); then
    say "$label: $go is $version, $package needs Go 1.$minor+: $missing"; exit 1
  fi
  say "$label: building $package with $version into $target (go install, a minute when cold)"
  tmp=$(mktemp -d)
  go_tmp+=("$tmp")
  if ! GOBIN="$tmp" CGO_ENABLED=0 "$go" install -ldflags "$ldflags" "$package" >"$tmp/go.log" 2>&1; then
    cat "$tmp/go.log" >&2
    say "$label: go install $package failed (output above)"; exit 1
  fi
  local built=${package%@*}
  mv -f "$tmp/${built##*/}" "$target"
}

# 3. the local runtime's servers: drills/kinds/<kind>/setup-local.sh of every kind that has
#    one, in the registry's order (a new kind brings its own; this file does not change)
for kind in $(.venv/bin/python -c 'from drills import kinds; print(" ".join(kinds.names()))'); do
  if [ -f "drills/kinds/$kind/setup-local.sh" ]; then
    # shellcheck source=/dev/null
    . "drills/kinds/$kind/setup-local.sh"
  fi
done

# 4. actionlint, for the test of the GitHub Actions example (examples/github-actions/)
alint_version=1.7.12
alint_bin=.venv/bin/actionlint
# its -version prints the version on the first line (v1.7.12), then how it was built
if [ -x "$alint_bin" ] && [ "$("$alint_bin" -version 2>/dev/null | head -1)" = "v$alint_version" ]; then
  say "actionlint: present ($alint_bin $alint_version)"
else
  # the version comes from the module
  go_build actionlint 25 "github.com/rhysd/actionlint/cmd/actionlint@v$alint_version" "-s -w" \
    "$alint_bin"
  if [ "$("$alint_bin" -version 2>/dev/null | head -1)" != "v$alint_version" ]; then
    say "actionlint: $alint_bin was built but does not report version $alint_version"; exit 1
  fi
fi

# 5. LazyFS, the FUSE file system that forgets what was not fsynced (the power-loss fault).
#    Its CMake fetches toml11 v3.7.1 and spdlog v1.10.0 from GitHub at configure time; Debian
#    packages exactly those versions, so the build copy is patched to find_package() them, and
#    libpcache is linked in statically: .venv/bin/lazyfs needs nothing beside it. The binary
#    and its source are kept in the machine's drills state directory too, so that a fresh
#    clone on the same machine copies them instead of building again. Without any source
#    (no tarball, no network) setup goes on: the power-loss scenarios then end "could not
#    verify", naming this, and `drill check` says so before a run.
lazyfs_version=0.3.0
lazyfs_bin=.venv/bin/lazyfs
lazyfs_stamp=.venv/share/drills/lazyfs.version  # read by drills.stack.storage.lazyfs
lazyfs_sha256=1adabdb69ddfe18d00ce39e6ae0b62893e17766714dadcc5dc37a83112417d6c
lazyfs_cache="${DRILLS_STATE_DIR:-$HOME/.cache/drills}/lazyfs-$lazyfs_version"
lazyfs_tarball=lazyfs-$lazyfs_version.tar.gz
install_lazyfs() {  # install_lazyfs BINARY: into the venv, with its version stamp
  install -m 755 "$1" "$lazyfs_bin"
  mkdir -p "$(dirname "$lazyfs_stamp")"
  echo "$lazyfs_version" > "$lazyfs_stamp"
}
build_lazyfs() {  # build_lazyfs: 0 with "$lazyfs_cache/lazyfs" built, 1 if no source was found
  local tmp source="" candidate src missing=()
  for candidate in "${DRILLS_LAZYFS_SOURCE:-}" "../shared/vendor/$lazyfs_tarball" \
                   "$lazyfs_cache/$lazyfs_tarball"; do
    if [ -n "$candidate" ] && [ -e "$candidate" ]; then source=$candidate; break; fi
  done
  if [ -f "$source" ] && [ "$source" != "${DRILLS_LAZYFS_SOURCE:-}" ] &&
     [ "$(sha256sum < "$source" | cut -d' ' -f1)" != "$lazyfs_sha256" ]; then
    say "LazyFS: $source does not have the sha256 of the $lazyfs_version release"
    say "(../shared/vendor/README.md); replace it, or set DRILLS_LAZYFS_SOURCE"; exit 1
  fi
  command -v cmake >/dev/null || missing+=(cmake)
  command -v make >/dev/null || missing+=(make)
  command -v g++ >/dev/null || missing+=(g++)
  command -v git >/dev/null || [ -n "$source" ] || missing+=(git)
  command -v fusermount3 >/dev/null || missing+=(fuse3)
  [ -e /usr/include/fuse3/fuse.h ] || missing+=(libfuse3-dev)
  [ -e /usr/include/toml.hpp ] || missing+=(libtoml11-dev)
  [ -e /usr/include/spdlog/spdlog.h ] || missing+=(libspdlog-dev)
  if [ ${#missing[@]} -ne 0 ]; then
    say "LazyFS: installing its build tools and libraries: ${missing[*]} (apt)"
    apt_install "${missing[@]}"
  fi
  tmp=$(mktemp -d)
  go_tmp+=("$tmp")  # removed on exit, like the Go builds' temporary directories
  if [ -z "$source" ]; then
    say "LazyFS: cloning tag $lazyfs_version of https://github.com/dsrhaslab/lazyfs"
    if ! git clone -q --depth 1 --branch "$lazyfs_version" https://github.com/dsrhaslab/lazyfs \
        "$tmp/src" 2>"$tmp/clone.log"; then
      say "LazyFS: no source: no tarball (DRILLS_LAZYFS_SOURCE, ../shared/vendor/$lazyfs_tarball)"
      say "and git clone failed: $(tail -1 "$tmp/clone.log")"
      return 1
    fi
  elif [ -f "$source" ]; then
    mkdir "$tmp/src" && tar -xzf "$source" -C "$tmp/src" --strip-components=1
    mkdir -p "$lazyfs_cache"
    [ "$source" -ef "$lazyfs_cache/$lazyfs_tarball" ] || cp "$source" "$lazyfs_cache/$lazyfs_tarball"
  else
    cp -r "$source" "$tmp/src"
  fi
  src=$tmp/src
  if ! grep -q '^include(FetchContent)' "$src/libs/libpcache/CMakeLists.txt" 2>/dev/null; then
    say "LazyFS: ${source:-the clone} does not look like LazyFS $lazyfs_version (no"
    say "libs/libpcache/CMakeLists.txt that fetches its dependencies); use its release tarball or tag"
    exit 1
  fi
  sed -i -e '/^include(FetchContent)/,/^set_target_properties(spdlog /c\find_package(toml11 3.7 REQUIRED)\nfind_package(spdlog 1.10 REQUIRED)' \
    -e 's/pcache SHARED ""/pcache STATIC ""/' \
    -e 's/toml11::toml11 spdlog)/toml11::toml11 spdlog::spdlog)/' "$src/libs/libpcache/CMakeLists.txt"
  sed -i -e 's/^find_package(Threads REQUIRED)/&\nfind_package(spdlog 1.10 REQUIRED)/' \
    -e 's/Threads::Threads libpcache.so)/Threads::Threads libpcache.a spdlog::spdlog)/' \
    "$src/lazyfs/CMakeLists.txt"
  say "LazyFS: building $lazyfs_version from ${source:-its tag} (CMake, about a minute)"
  local started=$SECONDS cmake_flags=(-DCMAKE_BUILD_TYPE=Release -DFETCHCONTENT_FULLY_DISCONNECTED=ON)
  if ! { cmake -S "$src/libs/libpcache" -B "$src/libs/libpcache/build" "${cmake_flags[@]}" \
         && cmake --build "$src/libs/libpcache/build" --parallel "$(nproc)" \
         && cmake -S "$src/lazyfs" -B "$src/lazyfs/build" "${cmake_flags[@]}" -DLAZYFS_BUILD_TESTS=OFF \
         && cmake --build "$src/lazyfs/build" --parallel "$(nproc)"; } >"$tmp/build.log" 2>&1; then
    tail -40 "$tmp/build.log" >&2
    say "LazyFS: the build failed (the end of its log above)"; exit 1
  fi
  mkdir -p "$lazyfs_cache"
  install -m 755 "$src/lazyfs/build/lazyfs" "$lazyfs_cache/lazyfs"
  say "LazyFS: built $lazyfs_version in $((SECONDS - started)) s"
}
if [ -x "$lazyfs_bin" ] && [ "$(cat "$lazyfs_stamp" 2>/dev/null)" = "$lazyfs_version" ]; then
  say "LazyFS: present ($lazyfs_bin $lazyfs_version)"
elif [ -x "$lazyfs_cache/lazyfs" ] && command -v fusermount3 >/dev/null; then
  install_lazyfs "$lazyfs_cache/lazyfs"
  say "LazyFS: $lazyfs_version copied from this machine's build ($lazyfs_cache)"
elif build_lazyfs; then
  install_lazyfs "$lazyfs_cache/lazyfs"
else
  say "LazyFS: not installed; the power-loss scenarios will end \"could not verify\""
fi
say "ready"
