#!/usr/bin/env bash
# Build the compose runtime's images offline, from Debian packages or Go sources: one per
# service kind that has an image/ directory (drills/kinds/<kind>/image/: build-rootfs.sh,
# Dockerfile, image.env, and docker-entrypoint.sh unless the image has no shell).
# Called by scripts/setup_docker.sh and `drill images build`.
#
# Per kind: the image is $DRILLS_<KIND>_IMAGE, else IMAGE from image.env (drills/<kind>:<tag>).
# It is built when absent, or when drills built it from other sources; an image of that
# name that drills did not build is never replaced, and a name outside drills/ (an
# official image) is pulled instead of built.
# build-rootfs.sh makes a rootfs tar (mmdebstrap, as root; or a static Go binary, see
# drills/kinds/toxiproxy/image/), cached as $DRILLS_STATE_DIR/rootfs/KIND-HASH.tar
# (HASH: build-rootfs.sh and common.sh), then `DOCKER_BUILDKIT=0 docker build` makes a
# FROM scratch image of it, its Dockerfile, docker-entrypoint.sh and the EXTRA files.
#
# image.env (sourced):
#   IMAGE=drills/<kind>:<tag>   the default image name                            (required)
#   PACKAGE=<name>              the Debian package whose version labels the image (required)
#   VERSION=<version>           the version label, when the rootfs has no dpkg database
#   EXTRA="<path>..."           more files for the build context, relative to image/ or
#                               absolute (copied under their base names, executable ones
#                               kept executable; part of the source hash)
#   SKIP="<reason>"             set when the image cannot be built here (a file built
#                               elsewhere is missing): logged with the reason, not built
#
# Environment:
#   DRILLS_STATE_DIR          rootfs cache, build logs (default ~/.cache/drills)
#   DRILLS_<KIND>_IMAGE       the image name of a kind
#   DRILLS_REBUILD_IMAGES=1   rebuild images this script built before even when their sources
#                             did not change (never a foreign image); a drills image built
#                             from other sources is always rebuilt
#   DRILLS_DEBIAN_MIRROR, DRILLS_DEBIAN_SECURITY_MIRROR   passed on to build-rootfs.sh
set -euo pipefail
export LC_NUMERIC=C

images_dir="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
kinds_dir="$(cd "$images_dir/../kinds" && pwd)"
state_dir="${DRILLS_STATE_DIR:-$HOME/.cache/drills}"
logs="$state_dir/logs"

log() { printf 'images: %s\n' "$*"; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }
die_with_log() {  # usage: die_with_log FILE MESSAGE
	printf 'images: error: %s\n--- last lines of %s ---\n' "$2" "$1" >&2
	tail -n 25 "$1" >&2 || true
	exit 1
}
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; }
need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root: run this as root"; }
# usage: uses_mmdebstrap FILE   (true when a line of code, not a comment, calls mmdebstrap)
uses_mmdebstrap() { grep -v '^[[:space:]]*#' "$1" | grep -qw mmdebstrap; }

command -v docker >/dev/null || die "the docker CLI is missing (scripts/setup_docker.sh installs docker.io)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (scripts/setup_docker.sh starts one)"
mkdir -p "$state_dir" "$logs"
exec 8>"$state_dir/images.lock"
if ! flock -n 8; then
	log "waiting for another image build to finish (lock $state_dir/images.lock)"
	flock -w 1800 8 || die "another image build still holds $state_dir/images.lock after 30 min"
fi

# usage: short_hash FILE...   (content hash of the files, 12 hex digits)
short_hash() { cat "$@" | sha256sum | cut -c1-12; }

# usage: package_version ROOTFS_TAR PACKAGE   (from the rootfs' dpkg database; may print nothing)
package_version() {
	tar -xOf "$1" ./var/lib/dpkg/status 2>/dev/null \
		| awk -v p="$2" '$1 == "Package:" { cur = $2 } $1 == "Version:" && cur == p { print $2; exit }' || true
}

# usage: build_image KIND NAME PACKAGE VERSION [EXTRA_FILE...]
build_image() {
	local kind="$1" name="$2" package="$3" version="$4"
	shift 4
	local src="$kinds_dir/$kind/image" extras=("$@")
	local sources=("$images_dir/common.sh" "$src/build-rootfs.sh" "$src/Dockerfile")
	# optional: an image without a shell (FROM scratch + one static binary) has no entrypoint
	[ ! -e "$src/docker-entrypoint.sh" ] || sources+=("$src/docker-entrypoint.sh")
	local extra mode
	for extra in "${extras[@]}"; do
		[ -f "$extra" ] || die "$src/image.env: EXTRA file $extra does not exist (that file says what makes it)"
		sources+=("$extra")
	done
	local image_key rootfs_key
	image_key="$(short_hash "${sources[@]}")"
	rootfs_key="$(short_hash "$images_dir/common.sh" "$src/build-rootfs.sh")"

	local ours old_key old_id=
	if [ "${name#drills/}" = "$name" ] && ! docker image inspect "$name" >/dev/null 2>&1; then
		# not one of ours (e.g. the official postgres:15): fetch it, never build under its name
		log "image $name: pulling (not a drills/ image, so it is not built here)"
		docker pull -q "$name" >"$logs/pull-$kind.log" 2>&1 \
			|| die_with_log "$logs/pull-$kind.log" "image $name is absent and cannot be pulled; unset DRILLS_${kind^^}_IMAGE to build drills' own image offline"
		return
	fi
	if old_id="$(docker image inspect --format '{{.Id}}' "$name" 2>/dev/null)"; then
		ours="$(docker image inspect --format '{{index .Config.Labels "io.drills.built-offline"}}' "$name")"
		old_key="$(docker image inspect --format '{{index .Config.Labels "io.drills.source-hash"}}' "$name")"
		if [ "$ours" != true ]; then
			log "image $name: skipped (present, not built by drills: left alone)"
			return
		fi
		if [ -z "${DRILLS_REBUILD_IMAGES:-}" ] && [ "$old_key" = "$image_key" ]; then
			log "image $name: skipped (present, built from these sources)"
			return
		fi
		# ours, from other sources (an edited refapp.py, a newer drills): an image that ran
		# other code than this checkout holds would make the drill test something else
		[ "$old_key" = "$image_key" ] || log "image $name: rebuilding (built from other sources than drills/kinds/$kind/image/ now holds)"
	fi

	# a Go build (toxiproxy) needs neither root nor mmdebstrap
	local builder=build-rootfs.sh
	if uses_mmdebstrap "$src/build-rootfs.sh"; then
		builder=mmdebstrap
		need_root "building $name (mmdebstrap)"
	fi
	local t="$EPOCHREALTIME" rootfs="$state_dir/rootfs/$kind-$rootfs_key.tar" rootfs_note
	if [ -s "$rootfs" ]; then
		rootfs_note="cached rootfs $(basename "$rootfs")"
	else
		if [ "$builder" = mmdebstrap ]; then
			command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (apt-get install mmdebstrap; scripts/setup_docker.sh does)"
		fi
		mkdir -p "$state_dir/rootfs"
		bash "$src/build-rootfs.sh" "$rootfs" >"$logs/rootfs-$kind.log" 2>&1 \
			|| die_with_log "$logs/rootfs-$kind.log" "$builder for $name failed ($src/build-rootfs.sh)"
		# older rootfs of this kind belong to older build-rootfs.sh versions
		find "$state_dir/rootfs" -maxdepth 1 -name "$kind-*.tar" ! -name "$(basename "$rootfs")" -delete
		rootfs_note="$builder $(since "$t"), rootfs $(mb "$(stat -c %s "$rootfs")")"
	fi

	local t_build="$EPOCHREALTIME" ctx="$state_dir/build/$kind"
	rm -rf "$ctx"
	mkdir -p "$ctx"
	ln "$rootfs" "$ctx/rootfs.tar" 2>/dev/null || cp "$rootfs" "$ctx/rootfs.tar"
	install -m 0644 "$src/Dockerfile" "$ctx/Dockerfile"
	[ ! -e "$src/docker-entrypoint.sh" ] || install -m 0755 "$src/docker-entrypoint.sh" "$ctx/docker-entrypoint.sh"
	for extra in "${extras[@]}"; do  # an executable (a static binary) stays one: COPY keeps modes
		if [ -x "$extra" ]; then mode=0755; else mode=0644; fi
		install -m "$mode" "$extra" "$ctx/$(basename "$extra")"
	done
	local labels=(--label "io.drills.source-hash=$image_key")
	# VERSION from image.env wins: a rootfs without Debian packages has no dpkg database
	[ -n "$version" ] || version="$(package_version "$rootfs" "$package")"
	[ -z "$version" ] || labels+=(--label "org.opencontainers.image.version=$version")
	# BuildKit needs the buildx plugin, which is not here: use the legacy builder explicitly
	DOCKER_BUILDKIT=0 docker build --pull=false --force-rm "${labels[@]}" -t "$name" "$ctx" >"$logs/build-$kind.log" 2>&1 \
		|| die_with_log "$logs/build-$kind.log" "docker build of $name failed (context $ctx)"
	rm -rf "$ctx"

	local new_id size
	new_id="$(docker image inspect --format '{{.Id}}' "$name")"
	if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
		# the previous build is now untagged: remove it unless a container still uses it
		docker image rm "$old_id" >/dev/null 2>&1 || true
	fi
	size="$(docker image inspect --format '{{.Size}}' "$name")"
	log "image $name: done ($package ${version:-?}; $rootfs_note; docker build $(since "$t_build"); image $(mb "$size"); total $(since "$t"))"
}

started="$EPOCHREALTIME"
found=0
for env_file in "$kinds_dir"/*/image/image.env; do
	[ -e "$env_file" ] || continue
	kind="$(basename "$(dirname "$(dirname "$env_file")")")"
	IMAGE='' PACKAGE='' VERSION='' EXTRA='' SKIP=''
	# shellcheck disable=SC1090  # image.env: IMAGE=..., PACKAGE=..., optional VERSION=, EXTRA=, SKIP=
	. "$env_file"
	if [ -z "$IMAGE" ] || [ -z "$PACKAGE" ]; then die "$env_file must set IMAGE and PACKAGE"; fi
	override="DRILLS_${kind^^}_IMAGE"
	if [ -n "$SKIP" ]; then
		log "image ${!override:-$IMAGE}: skipped, cannot be built here: $SKIP"
		continue
	fi
	extra_files=()
	for extra in $EXTRA; do  # paths relative to the kind's image/ directory, or absolute
		case "$extra" in
			/*) extra_files+=("$extra") ;;
			*) extra_files+=("$(dirname "$env_file")/$extra") ;;
		esac
	done
	build_image "$kind" "${!override:-$IMAGE}" "$PACKAGE" "$VERSION" "${extra_files[@]}"
	found=$((found + 1))
done
[ "$found" -gt 0 ] || die "no kind with an image/ directory under $kinds_dir"
log "$found images checked in $(since "$started")"
