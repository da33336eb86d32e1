"""PostgreSQL under the compose runtime: its service from the ``postgres`` template.

The password reaches the server by the official image's ``POSTGRES_PASSWORD_FILE``
convention (a 0600 file mounted read-only), never through the container's environment,
where ``docker inspect`` would show it.
"""

from __future__ import annotations

import os
import secrets

from drills.errors import StackError
from drills.kinds.postgres.settings import PostgresSettings, archive_conf
from drills.kinds.postgres.standby import ensure_slot, slot_name, standby_conf
from drills.stack.capabilities import CarriesLinks, require
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK
from drills.stack.service import Service
from drills.stack.workdir import write_private

DATA_PATH = "/var/lib/postgresql/data"  # PGDATA of the official image
PASSWORD_PATH = "/run/secrets/postgres-password"  # POSTGRES_PASSWORD_FILE in the template
BACKUP_PATH = "/backups"  # the service's backup directory, outside its data volume


#: the official image's postgres account (and drills' offline image's)
POSTGRES_UID = 999
#: run by the image's entrypoint once, after initdb (the image's init-script contract)
SYNC_INIT_PATH = "/docker-entrypoint-initdb.d/drills-synchronous-standby.sql"

#: a replica's passfile inside its container, written by its entrypoint at every start
PASSFILE = "/tmp/drills-pgpass"

#: A streaming replica's entrypoint, run by the image's own entrypoint as root (the command
#: is not "postgres"): on an empty volume, wait for the primary, clone it with
#: pg_basebackup (creating the replica's slot, or reusing it), mark it a standby; then hand
#: over to the image's entrypoint with the postgres command, which drops to the postgres
#: account and skips initdb (the volume holds a cluster). $1 host, $2 port, $3 slot.
#: where the WAL's own small file system is mounted (wal_disk_bytes), beside the data
WAL_DISK_PATH = "/var/lib/postgresql/wal-disk"
REPLICA_ENTRYPOINT = r"""set -eu
host=$1 port=$2 slot=$3; shift 3
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
umask 077
printf '*:*:*:drills:%s\n' "$(cat /run/secrets/postgres-password)" > /tmp/drills-pgpass
chown postgres:postgres /tmp/drills-pgpass
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  i=0
  until pg_isready -q -h "$host" -p "$port" -U drills -d drills; do
    i=$((i + 1)); [ "$i" -lt 600 ] || { echo "primary $host:$port not ready" >&2; exit 1; }
    sleep 0.1
  done
  export PGPASSFILE=/tmp/drills-pgpass
  as_pg pg_basebackup -h "$host" -p "$port" -U drills -w -D "$PGDATA" -X stream -C -S "$slot" \
      --checkpoint=fast --no-sync \
    || { rm -rf "${PGDATA:?}"/*; as_pg pg_basebackup -h "$host" -p "$port" -U drills -w \
           -D "$PGDATA" -X stream -S "$slot" --checkpoint=fast --no-sync; }
  as_pg touch "$PGDATA/standby.signal"
fi
exec docker-entrypoint.sh "$@"
"""


def compose_spec(name: str, settings: PostgresSettings, ctx: ComposeContext) -> ComposeSpec:
    port, inner = ctx.ports(5432)
    password = secrets.token_urlsafe(24)
    upstream = None
    if settings.replica_of is not None:
        primary, upstream = replica_upstream(name, settings, ctx)
        password = primary.endpoint.password  # one password: clients follow a failover
    secret = ctx.secret(f"{name}-password", password + "\n")
    conf = {"listen_addresses": LOOPBACK if ctx.hostnet else "*", **settings.conf(),
            **archive_conf(settings, BACKUP_PATH)}
    mounts = {PASSWORD_PATH: secret}
    if settings.synchronous_standby_names and upstream is None:
        # Not on the command line: the image's entrypoint starts a temporary server with
        # the same arguments to create the database, whose commit would wait forever for a
        # standby that does not exist yet. Set in postgresql.auto.conf by an init script,
        # it holds from the real start on.
        del conf["synchronous_standby_names"]
        names = settings.synchronous_standby_names.replace("'", "''")
        mounts[SYNC_INIT_PATH] = ctx.secret(
            f"{name}-sync.sql", f"ALTER SYSTEM SET synchronous_standby_names = '{names}';\n",
            owner=POSTGRES_UID)
    if upstream is not None:
        conf.update(standby_conf(name, upstream[0], upstream[1], PASSFILE))
    command = ["postgres"]
    for key, value in conf.items():
        command += ["-c", f"{key}={value.strip(chr(39))}"]
    if upstream is not None:
        command = ["bash", "-c", REPLICA_ENTRYPOINT, "replica-entrypoint", upstream[0],
                   str(upstream[1]), slot_name(name), *command]
    environment = {"PGPORT": str(inner)}
    if settings.wal_disk_bytes is not None:
        # the image's own contract: initdb --waldir and its arguments (1 MB segments)
        environment.update(POSTGRES_INITDB_WALDIR=f"{WAL_DISK_PATH}/pg_wal",
                           POSTGRES_INITDB_ARGS="--wal-segsize=1")
    return ComposeSpec(
        endpoint=Endpoint("postgres", LOOPBACK, port, password, "drills", "drills"),
        container_port=inner,
        environment=environment,
        small_disk_path=WAL_DISK_PATH if settings.wal_disk_bytes is not None else None,
        small_disk_bytes=settings.wal_disk_bytes,
        command=command,
        data_path=DATA_PATH,
        backup_path=BACKUP_PATH,
        secret_mounts=mounts,
        identity={"data_directory": DATA_PATH},
        # over the unix socket, where the image trusts local connections: no password
        exec_env={"PGHOST": "/var/run/postgresql", "PGPORT": str(inner), "PGUSER": "drills",
                  "PGDATABASE": "drills"},
        exec_user="postgres",
        settings=conf,
    )


def replica_upstream(name: str, settings: PostgresSettings, ctx: ComposeContext
                     ) -> tuple[Service, tuple[str, int]]:
    """A replica's primary, and the address it clones and streams from (a link, if asked)."""
    if not ctx.hostnet:
        raise StackError(f"service {name}: a replica reaches its primary on 127.0.0.1, which "
                         "needs host networking (DRILLS_NETWORK=host)")

    def before(service: str, role: str) -> Service:
        found = ctx.services.get(service)
        if found is None:
            raise StackError(f"service {name}: its {role} is service {service!r}, which the "
                             f"stack does not list before it (it lists: "
                             f"{', '.join(ctx.services) or 'nothing'})")
        return found

    primary = before(settings.replica_of or "", "primary")
    if settings.replicate_via is None:
        return primary, (primary.endpoint.host, primary.endpoint.port)
    proxy = require(before(settings.replicate_via, "proxy"), CarriesLinks,
                    f"carry the replication of {name}")
    link = proxy.add_link(name, primary)
    return primary, (link.listen_host, link.listen_port)


class ComposePostgres(ComposeService):
    """A PostgreSQL container, which can rejoin as a replica after a failover."""

    def rejoin(self, primary: Service) -> str:
        """Make this stopped old primary a streaming replica of ``primary``: pg_rewind.

        In a throwaway container on its volume (host network: it reaches the new primary),
        the login in a passfile in its backup directory for the length of the rewind; then
        standby.signal and the standby's settings in postgresql.auto.conf, and a start.
        """
        if self.alive():
            raise StackError(f"{self.name} is running: stop it before rewinding its data")
        ensure_slot(primary.endpoint, slot_name(self.name))  # slots are not replicated
        backups = self.backup_dir()
        passfile = backups.host / ".rejoin-pgpass"
        write_private(passfile, f"*:*:*:drills:{primary.endpoint.password}\n")
        if os.geteuid() == 0:
            os.chown(passfile, POSTGRES_UID, POSTGRES_UID)
        inside = f"{backups.inside}/.rejoin-pgpass"
        source = (f"host={primary.endpoint.host} port={primary.endpoint.port} user=drills "
                  f"dbname=drills passfile={inside}")
        try:
            # a killed server leaves postmaster.pid; its PID may be alive in the one-off
            # container's own namespace, and the single-user crash recovery pg_rewind runs
            # first would refuse the lock. The container is stopped: the file is stale.
            done = self.exec_offline(["sh", "-c", 'rm -f "$1/postmaster.pid" && exec pg_rewind '
                                      '--target-pgdata "$1" --source-server "$2" --no-sync',
                                      "rewind", DATA_PATH, source], network="host")
        finally:
            passfile.unlink(missing_ok=True)
        said = (done.stdout + done.stderr).decode(errors="replace").strip()
        if done.returncode != 0:
            raise StackError(f"{self.name}: pg_rewind from {primary.name} failed (exit "
                             f"{done.returncode}): {said[-1500:]}")
        conninfo = (f"host={primary.endpoint.host} port={primary.endpoint.port} user=drills "
                    f"dbname=drills password={primary.endpoint.password} "
                    f"application_name={self.name}")
        lines = (f"primary_conninfo = '{conninfo}'\nprimary_slot_name = "
                 f"'{slot_name(self.name)}'\nhot_standby = on\n")
        made = self.exec_offline(["sh", "-c", 'umask 077; touch "$1/standby.signal" && '
                                  'printf "%s" "$2" >> "$1/postgresql.auto.conf"',
                                  "standby", DATA_PATH, lines])
        if made.returncode != 0:
            raise StackError(f"{self.name}: could not make it a standby: "
                             f"{made.stderr.decode(errors='replace')[-500:]}")
        self.start()
        return said.splitlines()[-1] if said else "pg_rewind done"


SERVICE_CLASS = ComposePostgres
