#!/usr/bin/env bash
# Entrypoint of drills' offline MongoDB stand-in image: FerretDB v1.24.2 over PostgreSQL 15.
#
# Follows the docker-library/mongo entrypoint contract as far as drills uses it:
#   `mongod [--port N] [--bind_ip ADDR[,ADDR...]] [--bind_ip_all] [--dbpath DIR]`, and a first
#   argument starting with "-" means mongod; MONGO_INITDB_ROOT_USERNAME with
#   MONGO_INITDB_ROOT_PASSWORD or MONGO_INITDB_ROOT_PASSWORD_FILE (both or neither; neither:
#   no authentication, as mongod without --auth); data in /data/db (VOLUME); uid/gid 999
#   "mongodb" (as root, the data directory is chowned and privileges drop with setpriv).
#   Any other command is run as it is. Other mongod options are reported and ignored.
# Deliberate differences:
#   - FerretDB listens on ONE address: the first of --bind_ip; default 127.0.0.1 (official:
#     --bind_ip_all), because with host networking every container shares the host's.
#   - Clients authenticate with PLAIN (pymongo: authMechanism="PLAIN"), not SCRAM: FerretDB
#     hands the user name and password to PostgreSQL, which checks them (scram-sha-256).
#     The image says so in its label io.drills.mongodb-auth=PLAIN.
#   - The write concern is ignored (FerretDB): durability is PostgreSQL's. DRILLS_POSTGRES_ARGS
#     (e.g. "-c synchronous_commit=off") is added to PostgreSQL's command line at each start.
#   - No /docker-entrypoint-initdb.d (no mongosh), no MONGO_INITDB_DATABASE (databases
#     appear on first write), no --config. Health: drills-mongo-ping (no mongosh either).
# Layout and processes:
#   DBPATH/pg          PostgreSQL's data directory: initdb -E UTF8 --locale=C --data-checksums,
#                      superuser = the root user with its password (scram-sha-256); its
#                      database "ferretdb" holds every MongoDB database (a schema each)
#   /run/ferretdb      PostgreSQL's only listener, a unix socket (no TCP port: with host
#                      networking it would take one of the host's), FerretDB's way in; and
#                      "listen" (FerretDB's host and port, for drills-mongo-ping)
#   This script stays PID 1 and supervises both as direct children: PostgreSQL first, then,
#   once it answers, FerretDB. SIGTERM or SIGINT stops FerretDB, then PostgreSQL (fast
#   shutdown). When either exits by itself, the other is stopped and the container ends.
#   FERRETDB_LOG_LEVEL: debug, info, warn or error (default error: at warn FerretDB logs
#   every failed command's whole answer).
#   Runs as root (then drops to 999) or as uid 999 itself; initdb needs an account of its uid.
set -Eeuo pipefail

RUN_DIR=/run/ferretdb
PG_DATABASE=ferretdb  # FerretDB keeps everything in this one database: one FerretDB per database

say() { printf 'docker-entrypoint: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# usage: file_env VAR  ->  VAR from $VAR or from the file named by $VAR_FILE
file_env() {
	local var="$1" file_var="${1}_FILE"
	if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
		die "both $var and $file_var are set (but are exclusive)"
	fi
	local val="${!var:-}"
	if [ -n "${!file_var:-}" ]; then
		val="$(< "${!file_var}")"
	fi
	export "$var"="$val"
	unset "$file_var"
}

# mongod's options -> listen_host, listen_port, db_path (quiet=1: no notes, said later)
parse_mongod_args() {
	listen_host=127.0.0.1 listen_port=27017 db_path=/data/db
	local ignored=() opt val
	while [ "$#" -gt 0 ]; do
		opt="$1" val=
		shift
		case "$opt" in
			--port=* | --bind_ip=* | --dbpath=*) val="${opt#*=}" opt="${opt%%=*}" ;;
			--port | --bind_ip | --dbpath)
				[ "$#" -gt 0 ] || die "mongod $opt needs a value"
				val="$1"
				shift
				;;
		esac
		case "$opt" in
			--port) listen_port="$val" ;;
			--bind_ip)
				listen_host="${val%%,*}"
				[ -n "${quiet:-}" ] || [ "$listen_host" = "$val" ] || say "FerretDB listens on one address: $listen_host (of --bind_ip $val)"
				;;
			--bind_ip_all) listen_host=0.0.0.0 ;;
			--dbpath) db_path="$val" ;;
			-*)
				ignored+=("$opt")
				# an option's value, if it has one, goes with it
				if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then ignored+=("$1"); shift; fi
				;;
			*) ignored+=("$opt") ;;
		esac
	done
	if ! [[ "$listen_port" =~ ^[0-9]{1,5}$ ]] || (( listen_port < 1 || listen_port > 65535 )); then
		die "mongod --port $listen_port: not a port number"
	fi
	case "$listen_host" in
		localhost) listen_host=127.0.0.1 ;;
		*:*) [ "${listen_host#[}" != "$listen_host" ] || listen_host="[$listen_host]" ;;  # IPv6
	esac
	[ -n "${quiet:-}" ] || [ "${#ignored[@]}" = 0 ] || say "ignored by the FerretDB stand-in: ${ignored[*]}"
}

# first start: a cluster in a temporary directory, renamed into place once it is complete,
# so a start interrupted half-way starts over instead of keeping half a cluster
init_cluster() {
	local pgdata="$1" user="$MONGO_INITDB_ROOT_USERNAME" auth=scram-sha-256 partial="$1.init"
	if [ -n "$user" ] && [ -z "$MONGO_INITDB_ROOT_PASSWORD" ]; then
		die "MONGO_INITDB_ROOT_USERNAME is set without MONGO_INITDB_ROOT_PASSWORD(_FILE): set both or neither"
	fi
	if [ -z "$user" ]; then
		[ -z "$MONGO_INITDB_ROOT_PASSWORD" ] || die "MONGO_INITDB_ROOT_PASSWORD is set without MONGO_INITDB_ROOT_USERNAME: set both or neither"
		# mongod without --auth: anyone who reaches the port is in. FerretDB then logs in
		# to PostgreSQL as this process's account, which the socket trusts.
		user=mongodb auth=trust
		say "warning: no MONGO_INITDB_ROOT_USERNAME: no authentication, as mongod without --auth"
	fi
	# made (and chowned) by root before: a LazyFS mount bound in as the data directory gives
	# what it creates to root, and PostgreSQL refuses a data directory it does not own
	mkdir -p "$partial"
	find "$partial" -mindepth 1 -delete
	chmod 0700 "$partial"
	say "initdb: PostgreSQL cluster in $pgdata (superuser $user, $auth)"
	initdb -D "$partial" --username="$user" --pwfile=<(printf '%s\n' "${MONGO_INITDB_ROOT_PASSWORD:-unused}") \
		--auth-local="$auth" --auth-host="$auth" -E UTF8 --locale=C --data-checksums >/dev/null
	# single-user mode: no server, no login, nothing listening yet
	# (its shutdown checkpoint flushes it; initdb synced the rest: no --no-sync, so that a
	# power cut of a LazyFS data directory later cannot take the cluster's own files)
	postgres --single -D "$partial" -j postgres >/dev/null <<< "CREATE DATABASE $PG_DATABASE;"
	mv "$partial" "$pgdata"
	sync -f "$pgdata"
}

pg_pid='' fe_pid=''
stop_all() {
	trap '' TERM INT
	if [ -n "$fe_pid" ] && kill -0 "$fe_pid" 2>/dev/null; then
		kill -TERM "$fe_pid" 2>/dev/null || :
		wait "$fe_pid" 2>/dev/null || :
	fi
	if [ -n "$pg_pid" ] && kill -0 "$pg_pid" 2>/dev/null; then
		kill -INT "$pg_pid" 2>/dev/null || :  # fast shutdown
		wait "$pg_pid" 2>/dev/null || :
	fi
}

run_mongod() {
	parse_mongod_args "$@"
	local pgdata="$db_path/pg"
	umask 0077
	file_env MONGO_INITDB_ROOT_USERNAME
	file_env MONGO_INITDB_ROOT_PASSWORD
	[ -s "$pgdata/PG_VERSION" ] || init_cluster "$pgdata"
	unset MONGO_INITDB_ROOT_PASSWORD  # not inherited by the servers

	trap 'say "stopping FerretDB, then PostgreSQL"; stop_all; exit 0' TERM INT
	# A killed container leaves postmaster.pid behind, naming a pid that this new pid
	# namespace may well have given to another process; no postmaster of this data runs here.
	rm -f "$pgdata/postmaster.pid"
	# On the command line, not in postgresql.conf: an edit there that was never fsynced is
	# gone after a power cut of a LazyFS data directory (syncfs does not reach FUSE), and
	# PostgreSQL would come back listening on TCP 5432. Reached by FerretDB on its unix
	# socket only; FerretDB opens up to 50 connections per client login.
	local pg_args=(-c listen_addresses= -c "unix_socket_directories=$RUN_DIR"
		-c unix_socket_permissions=0700 -c max_connections=200)
	# shellcheck disable=SC2206  # word-split on purpose: "-c key=value -c key=value"
	[ -z "${DRILLS_POSTGRES_ARGS:-}" ] || pg_args+=(${DRILLS_POSTGRES_ARGS})
	postgres -D "$pgdata" "${pg_args[@]}" &
	pg_pid=$!
	until pg_isready -q -h "$RUN_DIR"; do
		if ! kill -0 "$pg_pid" 2>/dev/null; then
			wait "$pg_pid" || :
			die "PostgreSQL exited before it accepted connections"
		fi
		sleep 0.02
	done

	# the URL names no user: FerretDB logs in with each client's own (PLAIN)
	DO_NOT_TRACK=1 drills-ferretdb --listen-addr="$listen_host:$listen_port" \
		--postgresql-url="postgres:///$PG_DATABASE?host=$RUN_DIR" --handler=postgresql \
		--telemetry=disable --log-level="${FERRETDB_LOG_LEVEL:-error}" &
	fe_pid=$!
	printf '%s %s\n' "$listen_host" "$listen_port" > "$RUN_DIR/listen"
	say "FerretDB $(drills-ferretdb --version | cut -d' ' -f3) on $listen_host:$listen_port over PostgreSQL $(postgres -V | cut -d' ' -f3) ($pgdata)"

	local status=0
	wait -n "$pg_pid" "$fe_pid" || status=$?
	if kill -0 "$pg_pid" 2>/dev/null; then
		say "FerretDB exited (status $status): stopping PostgreSQL"
	else
		say "PostgreSQL exited (status $status): stopping FerretDB"
	fi
	stop_all
	exit 1
}

_main() {
	if [ "${1:0:1}" = '-' ]; then
		set -- mongod "$@"
	fi
	if [ "$1" != mongod ]; then
		exec "$@"
	fi
	shift
	case " $* " in
		*" --version "*) exec drills-ferretdb --version ;;
	esac
	if [ "$(id -u)" = 0 ]; then
		quiet=1 parse_mongod_args "$@"
		mkdir -p "$db_path" "$RUN_DIR"
		[ -s "$db_path/pg/PG_VERSION" ] || mkdir -p "$db_path/pg.init"  # see init_cluster
		find "$db_path" "$RUN_DIR" \! -user mongodb -exec chown mongodb:mongodb '{}' +
		chmod 0700 "$RUN_DIR"
		rm -f "$RUN_DIR/listen"
		# HOME as gosu would set it
		HOME=/data/db exec setpriv --reuid=mongodb --regid=mongodb --init-groups "$0" mongod "$@"
	fi
	rm -f "$RUN_DIR/listen"
	run_mongod "$@"
}

_main "$@"
