# shellcheck shell=bash
# FerretDB v1.24.2, the local runtime's MongoDB stand-in (no mongod can be installed from
# Debian or PyPI): drills' own Go main in drills/kinds/mongodb/ferretdb/ embeds FerretDB's package
# (its cmd/ferretdb panics when built with go install). Built with go build (about two
# minutes and 0.6 GB of modules when cold) and kept in the machine's drills state
# directory, keyed by the sources, so that a fresh clone copies it.
# Sourced by scripts/setup.sh (say, as_root, apt_install and go_build are its own), in the
# registry's order: install or build what the local runtime needs to run this kind, only
# when missing. The compose runtime has the kind's image instead.
ferret_version=v1.24.2
ferret_bin=.venv/bin/drills-ferretdb
ferret_key=$(cat drills/kinds/mongodb/ferretdb/main.go drills/kinds/mongodb/ferretdb/go.mod drills/kinds/mongodb/ferretdb/go.sum | sha256sum | cut -c1-16)
ferret_cache="${DRILLS_STATE_DIR:-$HOME/.cache/drills}/ferretdb-$ferret_version-$ferret_key"
ferret_ok() { "$1" --version 2>/dev/null | grep -q "^drills-ferretdb FerretDB $ferret_version "; }
if [ -x "$ferret_bin" ] && ferret_ok "$ferret_bin" && [ -x "$ferret_cache/drills-ferretdb" ] \
   && cmp -s "$ferret_bin" "$ferret_cache/drills-ferretdb"; then
  say "FerretDB (MongoDB stand-in): present ($ferret_bin $ferret_version)"
elif [ -x "$ferret_cache/drills-ferretdb" ] && ferret_ok "$ferret_cache/drills-ferretdb"; then
  install -m 755 "$ferret_cache/drills-ferretdb" "$ferret_bin"
  say "FerretDB (MongoDB stand-in): $ferret_version copied from this machine's build ($ferret_cache)"
else
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { say "FerretDB: the Go toolchain is missing: install Go 1.24 or newer"; exit 1; }
  say "FerretDB (MongoDB stand-in): building $ferret_version from drills/kinds/mongodb/ferretdb with $("$go" env GOVERSION) (go build, about two minutes when cold)"
  tmp=$(mktemp -d)
  go_tmp+=("$tmp")
  started=$SECONDS
  if ! (cd drills/kinds/mongodb/ferretdb && CGO_ENABLED=0 "$go" build -trimpath -buildvcs=false -ldflags "-s -w" \
          -o "$tmp/drills-ferretdb" .) >"$tmp/go.log" 2>&1; then
    cat "$tmp/go.log" >&2
    say "FerretDB: go build in drills/kinds/mongodb/ferretdb failed (output above)"; exit 1
  fi
  ferret_ok "$tmp/drills-ferretdb" || { say "FerretDB: the build does not report $ferret_version"; exit 1; }
  mkdir -p "$ferret_cache"
  install -m 755 "$tmp/drills-ferretdb" "$ferret_cache/drills-ferretdb"
  install -m 755 "$tmp/drills-ferretdb" "$ferret_bin"
  say "FerretDB (MongoDB stand-in): built $ferret_version in $((SECONDS - started)) s"
fi
