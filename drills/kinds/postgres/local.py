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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drills.errors import StackError
from drills.kinds.postgres.settings import PostgresSettings, archive_conf
from drills.stack.binaries import version_of
from drills.stack.endpoint import Endpoint
from drills.stack.local import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import RunAs, SupervisedProcess
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

    @property
    def data_dir(self) -> Path:
        return self.data

    def exec_env(self) -> dict[str, str]:
        # the unix socket in the service's home, where initdb made local connections trusted
        return {"PGHOST": str(self.home), "PGPORT": str(self.endpoint.port),
                "PGUSER": "drills", "PGDATABASE": "drills"}

    def exec_path(self) -> list[Path]:
        return [self.bindir]

    def _as_server(self, argv: list[str], stdin: str | None = None) -> None:
        """Run a server tool as the server's account (Exec); StackError if it fails."""
        done = self.exec(argv, timeout_s=120, stdin=None if stdin is None else stdin.encode())
        if done.returncode != 0:
            raise StackError(f"{self.name}: {stdin.strip() if stdin else ' '.join(argv)} failed "
                             f"(exit {done.returncode}):\n"
                             f"{done.stderr.decode(errors='replace').strip()[-2000:]}")

    def _initdb(self) -> None:
        self.home.mkdir(mode=0o700)
        pwfile = self.home / "pwfile"
        write_private(pwfile, self.endpoint.password + "\n")
        if self.run_as is not None:
            os.chown(self.home, self.run_as.uid, self.run_as.gid)
            os.chown(pwfile, self.run_as.uid, self.run_as.gid)
        try:
            self._as_server([
                str(self.bindir / "initdb"), "-D", str(self.data), "-U", "drills",
                "--data-checksums", "--auth-local=trust", "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-sync",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        conf = {
            "port": str(self.endpoint.port),
            "listen_addresses": f"'{LOOPBACK}'",
            "unix_socket_directories": f"'{self.home}'",
            **self.settings.conf(),
            **archive_conf(self.settings, self.backup_dir().inside),
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write("\n# drills\n" + "".join(f"{k} = {v}\n" for k, v in conf.items()))
        self._as_server(
            [str(self.bindir / "postgres"), "--single", "-D", str(self.data), "postgres"],
            stdin="CREATE DATABASE drills OWNER drills;\n",
        )

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        self.proc.start()

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
        }


def service(name: str, settings: PostgresSettings, ctx: LocalContext) -> LocalPostgres:
    return LocalPostgres(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"bindir": str(postgres_bindir())}
