#!/bin/bash
# Build the root file system of the offline Toxiproxy image: the static server binary, built
# from source with the Go toolchain and the Go module proxy (no Debian package, no root).
#
# usage: build-rootfs.sh OUTPUT.tar        (needs Go 1.23 or newer: go on PATH or /usr/local/go)
#
# The tar holds ./toxiproxy (0755; `go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0`
# with CGO_ENABLED=0 and the release's ldflags, so that `-version` prints 2.12.0) and an empty
# ./tmp (1777), as the official ghcr.io/shopify/toxiproxy image needs nothing else.
# GOFLAGS, GOPROXY, GOCACHE... of the caller are respected. drills/images/build.sh caches
# OUTPUT.tar keyed by this file and drills/images/common.sh.
set -euo pipefail

version=2.12.0
module=github.com/Shopify/toxiproxy/v2
out="${1:?usage: build-rootfs.sh OUTPUT.tar}"
partial="${out%.tar}.partial.tar"

go="$(command -v go || echo /usr/local/go/bin/go)"
if [ ! -x "$go" ]; then
  echo "build-rootfs.sh: the Go toolchain (1.23 or newer) is missing: install it from" \
    "https://go.dev/dl (Debian bookworm's golang-go is 1.19, too old for toxiproxy $version)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"; rm -f "$partial"' EXIT
echo "building $module/cmd/server@v$version with $("$go" version)"
GOBIN="$work/bin" CGO_ENABLED=0 "$go" install \
  -ldflags "-s -w -X $module.Version=$version" "$module/cmd/server@v$version"

mkdir -p "$work/root"
install -m 0755 "$work/bin/server" "$work/root/toxiproxy"
install -d -m 1777 "$work/root/tmp"
said="$("$work/root/toxiproxy" -version)"
echo "$said"
[ "$said" = "toxiproxy-server version $version" ] \
  || { echo "build-rootfs.sh: the binary does not report version $version" >&2; exit 1; }
# root-owned, fixed mtime: the same binary gives the same tar
tar --create --file "$partial" --owner=0 --group=0 --numeric-owner --mtime=@0 \
  -C "$work/root" ./toxiproxy ./tmp
mv -f "$partial" "$out"
