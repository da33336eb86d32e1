"""PostgreSQL as a local process: initdb with data checksums, supervised by the drill.

The postmaster is the drill's direct child: a server started by ``pg_ctl`` is
re-parented to PID 1, which reaps slowly on these machines, so a killed postmaster would
linger as a zombie and block the restart for 1.4-2.2 s. As root, it runs as the
``postgres`` account.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from drills.errors import ServiceNotReady, StackError
from drills.kinds.postgres import KIND, standby
from drills.kinds.postgres.settings import PostgresSettings, archive_conf
from drills.kinds.postgres.standby import Upstream
from drills.stack.binaries import version_of
from drills.stack.capabilities import CarriesLinks, require
from drills.stack.endpoint import Endpoint
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import RunAs, SupervisedProcess
from drills.stack.service import Service
from drills.stack.workdir import write_private


def postgres_bindir() -> Path:
    """Where initdb and postgres live: $DRILLS_PG_BINDIR, Debian's layout, or PATH."""
    configured = os.environ.get("DRILLS_PG_BINDIR")
    candidates = [Path(configured)] if configured else []
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise StackError(
        "PostgreSQL server binaries (initdb, postgres) not found. To fix this, either "
        "install them (apt-get install postgresql-15, or run scripts/setup.sh) or set "
        "DRILLS_PG_BINDIR to the directory that holds them."
    )


class LocalPostgres(LocalService):
    """PostgreSQL with data checksums, run by the drill as a direct child."""

    kind = "postgres"

    def __init__(self, name: str, settings: PostgresSettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.home = ctx.workdir / name
        self.data = self.home / "data"
        self.bindir = postgres_bindir()
        self.run_as = RunAs.for_server("PostgreSQL")
        self.endpoint = Endpoint(
            kind="postgres", host=LOOPBACK, port=free_port(), user="drills",
            database="drills", password=secrets.token_urlsafe(24),
        )
        self.proc = SupervisedProcess(
            name, [str(self.bindir / "postgres"), "-D", str(self.data)],
            log_path=ctx.logs_dir / f"{name}.log", run_as=self.run_as, workdir=ctx.workdir,
        )
        self.primary: LocalPostgres | None = None
        self.upstream: Upstream | None = None
        self._via: Service | None = None
        if settings.replica_of is not None:
            self._follow(settings, ctx)

    def _follow(self, settings: PostgresSettings, ctx: LocalContext) -> None:
        """A streaming replica: its primary (and the link to it) among the services before it."""
        def before(name: str, role: str) -> Service:
            found = ctx.services.get(name)
            if found is None:
                raise StackError(f"service {self.name}: its {role} is service {name!r}, which "
                                 "the stack does not list before it (it lists: "
                                 f"{', '.join(ctx.services) or 'nothing'})")
            return found

        primary = before(settings.replica_of or "", "primary")
        if not isinstance(primary, LocalPostgres):
            raise StackError(f"service {self.name}: its primary {primary.name} is not a "
                             "PostgreSQL server of this runtime")
        self.primary = primary
        # one password for every member: a client that follows a failover keeps its login
        self.endpoint = replace(self.endpoint, password=primary.endpoint.password)
        if settings.replicate_via is None:
            self.upstream = Upstream(primary.name, primary.endpoint.host, primary.endpoint.port)
        else:
            proxy = require(before(settings.replicate_via, "proxy"), CarriesLinks,
                            f"carry the replication of {self.name}")
            link = proxy.add_link(self.name, primary)
            self._via = before(settings.replicate_via, "proxy")
            self.upstream = Upstream(primary.name, link.listen_host, link.listen_port)

    @property
    def data_dir(self) -> Path:
        return self.data

    def exec_env(self) -> dict[str, str]:
        # the unix socket in the service's home, where initdb made local connections trusted
        return {"PGHOST": str(self.home), "PGPORT": str(self.endpoint.port),
                "PGUSER": "drills", "PGDATABASE": "drills",
                # a replica's login to its primary (drills.kinds.postgres.standby)
                "PGPASSFILE": str(self.home / "pgpass")}

    def exec_path(self) -> list[Path]:
        return [self.bindir]

    def override_args(self, overrides: Mapping[str, str]) -> list[str]:
        return KIND.override_args(overrides)

    def _initdb(self) -> None:
        self.home.mkdir(mode=0o700)
        pwfile = self.home / "pwfile"
        write_private(pwfile, self.endpoint.password + "\n")
        if self.run_as is not None:
            os.chown(self.home, self.run_as.uid, self.run_as.gid)
            os.chown(pwfile, self.run_as.uid, self.run_as.gid)
        if self.settings.storage == "lazyfs":  # the socket, logs and pwfile stay off it
            self.mount_lazyfs(self.data)
        wal: list[str] = []
        if self.settings.wal_disk_bytes is not None:
            disk = self.home / "wal-disk"
            self.mount_small_disk(disk, self.settings.wal_disk_bytes)
            # initdb wants an empty directory (ext4 has lost+found); 1 MB segments fill
            # the disk in seconds instead of minutes
            wal = [f"--waldir={disk / 'pg_wal'}", "--wal-segsize=1"]
        try:
            self.exec_checked([
                str(self.bindir / "initdb"), "-D", str(self.data), "-U", "drills",
                "--data-checksums", "--auth-local=trust", "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-sync", *wal,
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        self.append_conf(self.own_conf())
        self.exec_checked(
            # no standby exists yet: a synchronous one would be waited for forever
            [str(self.bindir / "postgres"), "--single", "-D", str(self.data),
             "-c", "synchronous_standby_names=", "postgres"],
            stdin="CREATE DATABASE drills OWNER drills;\n",
        )
        if self.lazyfs is not None:
            # initdb ran with --no-sync: on LazyFS its files are only in the cache, and a
            # power cut would take the cluster itself. Written out now, as on a server
            # installed long before the drill.
            self.lazyfs.checkpoint()

    def own_conf(self) -> dict[str, str]:
        """The drill's lines of postgresql.conf: this server's port, socket and settings."""
        return {
            "port": str(self.endpoint.port),
            "listen_addresses": f"'{LOOPBACK}'",
            "unix_socket_directories": f"'{self.home}'",
            **self.settings.conf(),
            **archive_conf(self.settings, self.backup_dir().inside),
        }

    def append_conf(self, conf: Mapping[str, str]) -> None:
        """Append to postgresql.conf: the last line of a key wins."""
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write("\n# drills\n" + "".join(f"{k} = {v}\n" for k, v in conf.items()))

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            if self.primary is None:
                self._initdb()
            else:
                self._clone()
        self.proc.start()

    def _clone(self) -> None:
        assert self.primary is not None and self.upstream is not None
        self.primary.wait_ready(60)
        if self._via is not None:
            self._via.wait_ready(30)  # creates the link the replica clones through
        standby.clone(self, self.upstream, self.primary.endpoint)

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.01) -> float:
        """Ready: identity proven and, for a replica, streaming from its upstream."""
        began = time.monotonic()
        waited = super().wait_ready(timeout, interval)
        if self.primary is None or self.settings.replica_of is None:
            return waited
        from drills.kinds.postgres import store

        deadline = began + max(timeout, waited + 1.0)
        while True:
            state = store.replication(self.endpoint)
            if state.role == "primary" or state.streaming:
                return time.monotonic() - began
            if time.monotonic() >= deadline:
                raise ServiceNotReady(self.name, timeout, f"a replica of {self.primary.name} "
                                      "that is not streaming from it", self.log_tail())
            time.sleep(0.05)

    def rejoin(self, primary: Service) -> str:
        """Make this stopped server a streaming replica of ``primary`` (pg_rewind); start it."""
        if not isinstance(primary, LocalPostgres):
            raise StackError(f"{self.name}: {primary.name} is not a PostgreSQL server of this "
                             "runtime to rejoin")
        upstream = Upstream(primary.name, primary.endpoint.host, primary.endpoint.port)
        said = standby.rewind(self, upstream, primary.endpoint)
        self.primary, self.upstream = primary, upstream
        self.proc.start()
        return said

    def stop(self) -> None:
        self.proc.stop(signal.SIGINT)  # fast shutdown

    def identify(self) -> Mapping[str, str]:
        from drills.kinds.postgres import store

        return store.identify(self.endpoint, {"data_directory": str(self.data)})

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": version_of(self.bindir / "postgres"),
            "binary": str(self.bindir / "postgres"), "data": str(self.data),
            "run_as": self.run_as.user if self.run_as else None,
            "endpoint": self.endpoint.public(), "settings": self.settings.conf(),
            **({"replica_of": self.primary.name, "upstream": f"{self.upstream.host}:"
                f"{self.upstream.port}"} if self.primary and self.upstream else {}),
        }


def service(name: str, settings: PostgresSettings, ctx: LocalContext) -> LocalPostgres:
    return LocalPostgres(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"bindir": str(postgres_bindir())}
