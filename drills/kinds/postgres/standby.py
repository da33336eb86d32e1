"""A local PostgreSQL streaming replica: cloned from its primary, and rejoined after a failover.

clone     pg_basebackup from the primary (directly, or through a Toxiproxy link), a
          physical replication slot named after the replica, standby.signal and
          primary_conninfo written by drills (the password in a passfile, never in a
          configuration file)
rewind    an old primary made a replica of the new one: pg_rewind (data checksums make it
          possible), then the same standby configuration

Each is run as the server's account through the service's ``exec``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drills.errors import StackError
from drills.stack.workdir import write_private

if TYPE_CHECKING:
    from drills.kinds.postgres.local import LocalPostgres


@dataclass(frozen=True)
class Upstream:
    """Where a replica reaches its primary (the primary itself, or a link to it)."""

    service: str
    host: str
    port: int

    def conninfo(self, passfile: Path, application_name: str) -> str:
        return (f"host={self.host} port={self.port} user=drills dbname=drills "
                f"passfile={passfile} application_name={application_name}")


def slot_name(replica: str) -> str:
    """The primary's replication slot for ``replica`` (a slot name: [a-z0-9_] only)."""
    return "drills_" + "".join(c if c.isalnum() else "_" for c in replica.lower())


def write_passfile(server: LocalPostgres) -> Path:
    """``home/pgpass``: the cluster's password for libpq (0600, the server's account's)."""
    path = server.home / "pgpass"
    write_private(path, f"*:*:*:drills:{server.endpoint.password}\n")
    server._own(path)
    return path


def ensure_slot(primary_endpoint: object, name: str) -> None:
    """Create the physical replication slot ``name`` on the primary if it is missing."""
    from drills.kinds.postgres import store

    with store.connect(primary_endpoint) as conn:  # type: ignore[arg-type]
        conn.execute("SELECT pg_create_physical_replication_slot(%s, true) WHERE NOT EXISTS "
                     "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)", (name, name))


def standby_conf(name: str, host: str, port: int, passfile: Path | str) -> dict[str, str]:
    """The settings that make server ``name`` a standby of the primary at ``host:port``."""
    upstream = Upstream("", host, port)
    return {
        "primary_conninfo": f"'{upstream.conninfo(Path(passfile), name)}'",
        "primary_slot_name": f"'{slot_name(name)}'",
        "hot_standby": "on",
        "hot_standby_feedback": "on",
        # a replica answers the sampler even when its upstream is gone
        "wal_receiver_timeout": "5s",
        "wal_retrieve_retry_interval": "500ms",
    }


def clone(server: LocalPostgres, upstream: Upstream, primary_endpoint: object) -> None:
    """Make ``server``'s data directory a copy of its primary's, as a streaming standby."""
    server.home.mkdir(mode=0o700, exist_ok=True)
    server._own(server.home)
    passfile = write_passfile(server)
    ensure_slot(primary_endpoint, slot_name(server.name))
    done = server.exec([
        str(server.bindir / "pg_basebackup"), "-D", str(server.data), "-h", upstream.host,
        "-p", str(upstream.port), "-U", "drills", "-w", "-X", "stream",
        "-S", slot_name(server.name),
        "--checkpoint=fast", "--no-sync",
    ], timeout_s=300)
    if done.returncode != 0:
        raise StackError(f"{server.name}: pg_basebackup from {upstream.service} failed (exit "
                         f"{done.returncode}): {done.stderr.decode(errors='replace')[-1500:]}")
    make_standby(server, upstream, passfile)


def make_standby(server: LocalPostgres, upstream: Upstream, passfile: Path) -> None:
    """standby.signal and the drill's configuration (its own port, socket, standby lines)."""
    signal_file = server.data / "standby.signal"
    signal_file.touch()
    server._own(signal_file)
    server.append_conf({**server.own_conf(),
                        **standby_conf(server.name, upstream.host, upstream.port, passfile)})


def rewind(server: LocalPostgres, upstream: Upstream, primary_endpoint: object) -> str:
    """Rejoin a stopped old primary as a standby of ``upstream`` (the new primary).

    ``pg_rewind`` copies what differs since the timelines forked; the writes only the old
    primary had are gone from it afterwards. Returns pg_rewind's own account.
    """
    if server.proc.running():
        raise StackError(f"{server.name} is running: stop it before rewinding its data")
    server.release_shared_memory()
    passfile = write_passfile(server)
    ensure_slot(primary_endpoint, slot_name(server.name))  # slots are not replicated
    done = server.exec([
        str(server.bindir / "pg_rewind"), "--target-pgdata", str(server.data),
        "--source-server", upstream.conninfo(passfile, server.name), "--progress",
        "--no-sync",
    ], timeout_s=600)
    out = (done.stdout + done.stderr).decode(errors="replace").strip()
    if done.returncode != 0:
        raise StackError(f"{server.name}: pg_rewind from {upstream.service} failed (exit "
                         f"{done.returncode}): {out[-1500:]}")
    # pg_rewind copied the new primary's configuration: the drill's own lines come last
    make_standby(server, upstream, passfile)
    auto = server.data / "postgresql.auto.conf"
    if auto.exists():
        os.chmod(auto, 0o600)
    return out.splitlines()[-1] if out else "pg_rewind done"
