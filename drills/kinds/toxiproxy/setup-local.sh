# shellcheck shell=bash
# Toxiproxy 2.12.0 as .venv/bin/toxiproxy-server, built with Go 1.23+ (go install through the
# Go module proxy; no Debian package has it).
# Sourced by scripts/setup.sh (say, as_root, apt_install and go_build are its own), in the
# registry's order: install or build what the local runtime needs to run this kind, only
# when missing. The compose runtime has the kind's image instead.
toxi_version=2.12.0
toxi_module=github.com/Shopify/toxiproxy/v2
toxi_bin=.venv/bin/toxiproxy-server
if [ -x "$toxi_bin" ] && [ "$("$toxi_bin" -version 2>/dev/null)" = "toxiproxy-server version $toxi_version" ]; then
  say "Toxiproxy server: present ($toxi_bin $toxi_version)"
else
  # the ldflags are the release's
  go_build "Toxiproxy server" 23 "$toxi_module/cmd/server@v$toxi_version" \
    "-s -w -X $toxi_module.Version=$toxi_version" "$toxi_bin"
  if [ "$("$toxi_bin" -version 2>/dev/null)" != "toxiproxy-server version $toxi_version" ]; then
    say "Toxiproxy server: $toxi_bin was built but does not report version $toxi_version"; exit 1
  fi
fi
