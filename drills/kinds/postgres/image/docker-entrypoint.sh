#!/usr/bin/env bash
# Entrypoint of drills' offline PostgreSQL 15 image (Debian's postgresql-15 package).
#
# Follows the docker-library/postgres entrypoint contract, function by function:
#   POSTGRES_PASSWORD, POSTGRES_USER (postgres), POSTGRES_DB (= user), PGDATA,
#   POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD (scram-sha-256),
#   the *_FILE variants, /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz|*.sql.zst,
#   `docker run IMAGE -c key=value`, --user with any uid (nss_wrapper), and sourcing this file
#   to reuse its functions.
# Extras and deliberate differences, all forced by host networking (every container shares
# the host's 127.0.0.1):
#   PGPORT                      listen port (image default 5432; postgres reads it itself)
#   POSTGRES_LISTEN_ADDRESSES   default 127.0.0.1 (official: '*'); passed as -c on the command
#                               line right after "postgres", so arguments you add still win
#   pg_hba.conf                 initdb runs with --auth-local=trust --auth-host=$POSTGRES_HOST_AUTH_METHOD:
#                               the official image trusts 127.0.0.1/32, which here would mean
#                               every process on the host
#   setpriv (util-linux, Essential) instead of gosu; locale C.UTF-8; jit=off
set -Eeo pipefail

# usage: file_env VAR [DEFAULT]  ->  VAR from $VAR or from the file named by $VAR_FILE
file_env() {
	local var="$1"
	local fileVar="${var}_FILE"
	local def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
		exit 1
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

# true when this file is sourced (so that scripts can reuse the functions)
_is_sourced() {
	[ "${#FUNCNAME[@]}" -ge 2 ] \
		&& [ "${FUNCNAME[0]}" = '_is_sourced' ] \
		&& [ "${FUNCNAME[1]}" = 'source' ]
}

docker_create_db_directories() {
	local user; user="$(id -u)"
	mkdir -p "$PGDATA"
	# ignore failure: the volume may be owned by another user (then initdb reports it)
	chmod 00700 "$PGDATA" || :
	# mmdebstrap empties /run; the Dockerfile recreates the socket directory, this keeps it right
	mkdir -p /var/run/postgresql || :
	chmod 03775 /var/run/postgresql || :
	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		mkdir -p "$POSTGRES_INITDB_WALDIR"
		if [ "$user" = '0' ]; then
			find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
		fi
		chmod 700 "$POSTGRES_INITDB_WALDIR"
	fi
	if [ "$user" = '0' ]; then
		find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
		find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
	fi
}

# initdb wants the current uid in /etc/passwd: fake it with nss_wrapper for arbitrary --user
docker_init_database_dir() {
	local uid; uid="$(id -u)"
	if ! getent passwd "$uid" &> /dev/null; then
		local wrapper
		for wrapper in /usr/lib/*/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
			if [ -s "$wrapper" ]; then
				NSS_WRAPPER_PASSWD="$(mktemp)"
				NSS_WRAPPER_GROUP="$(mktemp)"
				export LD_PRELOAD="$wrapper" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
				local gid; gid="$(id -g)"
				printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "$uid" "$gid" "$PGDATA" > "$NSS_WRAPPER_PASSWD"
				printf 'postgres:x:%s:\n' "$gid" > "$NSS_WRAPPER_GROUP"
				break
			fi
		done
	fi

	if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
		set -- --waldir "$POSTGRES_INITDB_WALDIR" "$@"
	fi

	# --pwfile refuses a properly empty file, hence the "\n"; POSTGRES_INITDB_ARGS is
	# word-split on purpose (eval), as in the official image; it comes last so it wins
	eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") \
		--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" "$@" '"$POSTGRES_INITDB_ARGS"

	if [[ "${LD_PRELOAD:-}" == */libnss_wrapper.so ]]; then
		rm -f "$NSS_WRAPPER_PASSWD" "$NSS_WRAPPER_GROUP"
		unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
	fi
}

docker_verify_minimum_env() {
	if [ -z "$POSTGRES_PASSWORD" ] && [ 'trust' != "$POSTGRES_HOST_AUTH_METHOD" ]; then
		cat >&2 <<-'EOE'
			Error: Database is uninitialized and superuser password is not specified.
			       You must specify POSTGRES_PASSWORD to a non-empty value for the
			       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

			       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
			       connections without a password. This is *not* recommended.
		EOE
		exit 1
	fi
	if [ 'trust' = "$POSTGRES_HOST_AUTH_METHOD" ]; then
		cat >&2 <<-'EOWARN'
			********************************************************************************
			WARNING: POSTGRES_HOST_AUTH_METHOD has been set to "trust". This will allow
			         anyone with access to the Postgres port to access your database without
			         a password, even if POSTGRES_PASSWORD is set.
			********************************************************************************
		EOWARN
	fi
}

# a data directory of another major version cannot be started by this server
docker_error_old_databases() {
	if [ -n "${OLD_DATABASES[0]:-}" ]; then
		printf >&2 'Error: in %s, the database files are from PostgreSQL %s; this image runs %s.\n' \
			"$PGDATA" "${OLD_DATABASES[0]}" "${PG_MAJOR:-15}"
		printf >&2 '       Use a volume for each major version, or upgrade with pg_upgrade.\n'
		exit 1
	fi
}

# usage: docker_process_init_files [file [file [...]]]
docker_process_init_files() {
	# kept for init scripts written for the official image, which may use "${psql[@]}"
	# shellcheck disable=SC2034
	psql=( docker_process_sql )
	printf '\n'
	local f
	for f; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					printf '%s: running %s\n' "$0" "$f"
					"$f"
				else
					printf '%s: sourcing %s\n' "$0" "$f"
					# shellcheck disable=SC1090
					. "$f"
				fi
				;;
			*.sql)     printf '%s: running %s\n' "$0" "$f"; docker_process_sql -f "$f"; printf '\n' ;;
			*.sql.gz)  printf '%s: running %s\n' "$0" "$f"; gunzip -c "$f" | docker_process_sql; printf '\n' ;;
			*.sql.xz)  printf '%s: running %s\n' "$0" "$f"; xzcat "$f" | docker_process_sql; printf '\n' ;;
			*.sql.zst) printf '%s: running %s\n' "$0" "$f"; zstd -dc "$f" | docker_process_sql; printf '\n' ;;
			*)         printf '%s: ignoring %s\n' "$0" "$f" ;;
		esac
		printf '\n'
	done
}

# usage: docker_process_sql [psql-args...]   (over the unix socket, into $POSTGRES_DB)
docker_process_sql() {
	local query_runner=( psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc )
	if [ -n "$POSTGRES_DB" ]; then
		query_runner+=( --dbname "$POSTGRES_DB" )
	fi
	PGHOST='' PGHOSTADDR='' "${query_runner[@]}" "$@"
}

# create POSTGRES_DB unless it exists
docker_setup_db() {
	local dbAlreadyExists
	dbAlreadyExists="$(
		# shellcheck disable=SC2097,SC2098  # db= keeps the value, only psql's --dbname changes
		POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<-'EOSQL'
			SELECT 1 FROM pg_database WHERE datname = :'db' ;
		EOSQL
	)"
	if [ -z "$dbAlreadyExists" ]; then
		# shellcheck disable=SC2097,SC2098
		POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
		printf '\n'
	fi
}

docker_setup_env() {
	file_env 'POSTGRES_PASSWORD'
	file_env 'POSTGRES_USER' 'postgres'
	file_env 'POSTGRES_DB' "$POSTGRES_USER"
	file_env 'POSTGRES_INITDB_ARGS'
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
	: "${POSTGRES_LISTEN_ADDRESSES:=127.0.0.1}"
	export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

	declare -g DATABASE_ALREADY_EXISTS
	: "${DATABASE_ALREADY_EXISTS:=}"
	declare -ag OLD_DATABASES=()
	if [ -s "$PGDATA/PG_VERSION" ]; then
		DATABASE_ALREADY_EXISTS='true'
		local version; version="$(< "$PGDATA/PG_VERSION")"
		if [ "$version" != "${PG_MAJOR:-15}" ]; then
			OLD_DATABASES+=( "$version" )
		fi
	fi
}

# append the catch-all TCP rule, as the official image does
pg_setup_hba_conf() {
	{
		printf '\n'
		if [ 'trust' = "$POSTGRES_HOST_AUTH_METHOD" ]; then
			printf '# warning trust is enabled for all connections\n'
			printf '# see https://www.postgresql.org/docs/15/auth-trust.html\n'
		fi
		printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
	} >> "$PGDATA/pg_hba.conf"
}

# temporary server for the init scripts: unix socket only, so TCP health checks stay red
docker_temp_server_start() {
	if [ "$1" = 'postgres' ]; then
		shift
	fi
	set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
	PGUSER="${PGUSER:-$POSTGRES_USER}" \
	pg_ctl -D "$PGDATA" \
		-o "$(printf '%q ' "$@")" \
		-w start
}

docker_temp_server_stop() {
	PGUSER="${PGUSER:-postgres}" \
	pg_ctl -D "$PGDATA" -m fast -w stop
}

# true for arguments that make postgres print something and exit
_pg_want_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?'|--help|--describe-config|-V|--version)
				return 0
				;;
		esac
	done
	return 1
}

_main() {
	# `docker run IMAGE -c foo=bar` means `postgres -c foo=bar`
	if [ "${1:0:1}" = '-' ]; then
		set -- postgres "$@"
	fi

	if [ "$1" = 'postgres' ] && ! _pg_want_help "$@"; then
		docker_setup_env
		docker_create_db_directories
		if [ "$(id -u)" = '0' ]; then
			# restart as uid 999; HOME as gosu would set it
			HOME=/var/lib/postgresql exec setpriv --reuid=postgres --regid=postgres --init-groups \
				"${BASH_SOURCE[0]}" "$@"
		fi

		if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
			docker_verify_minimum_env
			# fail early when the directory is unreadable
			ls /docker-entrypoint-initdb.d/ > /dev/null

			docker_init_database_dir
			pg_setup_hba_conf "$@"

			# for init scripts that connect with a password (--auth-local in POSTGRES_INITDB_ARGS)
			export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
			docker_temp_server_start "$@"
			docker_setup_db
			docker_process_init_files /docker-entrypoint-initdb.d/*
			docker_temp_server_stop
			unset PGPASSWORD

			printf '\nPostgreSQL init process complete; ready for start up.\n\n'
		else
			docker_error_old_databases
			printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
		fi

		shift
		set -- postgres -c listen_addresses="$POSTGRES_LISTEN_ADDRESSES" "$@"
	fi

	exec "$@"
}

if ! _is_sourced; then
	_main "$@"
fi
