#!/bin/sh
# Entrypoint of drills' offline Redis 7 image (Debian's redis-server package).
#
# Follows the docker-library/redis entrypoint contract: a first argument starting with "-" or
# ending in ".conf" means redis-server; as root, /data is chowned and privileges drop to
# uid 999; umask 0077; "--protected-mode no" is added unless a config file sets protected-mode.
# Extra, forced by host networking (every container shares the host's interfaces):
#   REDIS_BIND (default 127.0.0.1) is added as "--bind" when redis-server runs without a
#   "--bind" argument and without a config file that sets bind, because Debian's redis-server
#   would otherwise listen on every address of the host. REDIS_BIND= (empty) turns this off.
set -e

# first arg is `-f` or `--some-option`, or first arg is `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	# util-linux setpriv is Essential in Debian: no gosu needed
	exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# set an appropriate umask (if one isn't set already)
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

if [ "$1" = 'redis-server' ]; then
	configFile=
	if [ -f "${2:-}" ]; then
		configFile="$2"
	fi

	doProtectedMode=1
	if [ -n "$configFile" ] && grep -q '^protected-mode' "$configFile"; then
		# a config file that sets protected-mode wins
		doProtectedMode=
	fi

	doBind="${REDIS_BIND-127.0.0.1}"
	for arg; do
		if [ "$arg" = '--bind' ]; then doBind=; fi
	done
	if [ -n "$configFile" ] && grep -q '^bind' "$configFile"; then
		doBind=
	fi

	if [ -n "$doProtectedMode" ] || [ -n "$doBind" ]; then
		shift # "redis-server"
		if [ -n "$configFile" ]; then
			shift
		fi
		# command-line options are applied in order: ours go first, so the user's still win
		if [ -n "$doBind" ]; then
			# shellcheck disable=SC2086  # REDIS_BIND may hold several addresses
			set -- --bind $doBind "$@"
		fi
		if [ -n "$doProtectedMode" ]; then
			set -- --protected-mode no "$@"
		fi
		if [ -n "$configFile" ]; then
			set -- "$configFile" "$@"
		fi
		set -- redis-server "$@" # redis-server [config file] [ours] [user's options]
	fi
fi

exec "$@"
