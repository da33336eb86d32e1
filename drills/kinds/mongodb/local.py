"""MongoDB on the local runtime: FerretDB over a PostgreSQL of its own, as one server.

No ``mongod`` can be installed on the machines drills is built on (Debian has none; the
PyPI and npm packages download it at run time). The local runtime runs instead FerretDB
v1.24.2, a MongoDB wire-protocol server, embedded in drills' own Go main
(ferretdb/ beside this file, built by setup-local.sh into .venv/bin/drills-ferretdb), over a
PostgreSQL cluster in the service's home. Clients log in with PLAIN: FerretDB hands the
credentials to that PostgreSQL, which checks the run's password (scram-sha-256).

The two processes are one service, both direct children of the drill (a PostgreSQL
re-parented to PID 1 would linger as a zombie and block its restart): it is alive while
both run, and kill, freeze and power cut reach both process trees at once, as they would
reach a mongod. What a kill can lose is what PostgreSQL acknowledged and did not keep: with
``j=true`` a commit is flushed before the acknowledgement (``synchronous_commit=on``);
with ``j=false`` it is not (``synchronous_commit=off``). The report names the server.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from drills.errors import StackError
from drills.kinds.mongodb.settings import MongoSettings
from drills.kinds.postgres.local import postgres_bindir
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack.binaries import find_program, version_of
from drills.stack.capabilities import ExecResult
from drills.stack.endpoint import Endpoint
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import RunAs, SupervisedProcess
from drills.stack.workdir import write_private

#: the PostgreSQL database FerretDB keeps every MongoDB database in (one schema each)
BACKING_DATABASE = "ferretdb"

def ferretdb_binary() -> Path:
    """$DRILLS_FERRETDB, else drills-ferretdb on PATH or beside this Python."""
    found = find_program("drills-ferretdb", "DRILLS_FERRETDB")
    if found is not None:
        return found
    raise StackError(
        "drills-ferretdb (the local runtime's MongoDB stand-in) not found. To fix this, "
        "either run scripts/setup.sh (it builds FerretDB v1.24.2 from "
        "drills/kinds/mongodb/ferretdb/ with Go, as .venv/bin/drills-ferretdb) or set "
        "DRILLS_FERRETDB to its path."
    )


def ferretdb_version(binary: Path) -> str:
    """``v1.24.2``, from ``drills-ferretdb --version``."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             check=False, timeout=10).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out[2] if len(out) >= 3 else "unknown"


class LocalMongo(LocalService):
    """FerretDB over its own PostgreSQL, supervised as one server."""

    kind = "mongodb"

    def __init__(self, name: str, settings: MongoSettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.home = ctx.workdir / name
        self.data = self.home / "data"
        self.bindir = postgres_bindir()
        self.ferretdb = ferretdb_binary()
        self.run_as = RunAs.for_server("The MongoDB stand-in's PostgreSQL")
        self.pg_port = free_port()
        self.endpoint = Endpoint(
            kind="mongodb", host=LOOPBACK, port=free_port(), user="drills",
            database="drills", password=secrets.token_urlsafe(24), auth="PLAIN",
            client_options=settings.client_options(),
        )
        #: the backing PostgreSQL (``proc``: the data, the lock file, shared memory)
        self.proc = SupervisedProcess(
            name, [str(self.bindir / "postgres"), "-D", str(self.data)],
            log_path=ctx.logs_dir / f"{name}.log", run_as=self.run_as, workdir=ctx.workdir,
        )
        #: FerretDB, the wire-protocol front the clients talk to
        self.front = SupervisedProcess(
            f"{name}-ferretdb",
            [str(self.ferretdb), f"--listen-addr={LOOPBACK}:{self.endpoint.port}",
             f"--postgresql-url=postgres://{LOOPBACK}:{self.pg_port}/{BACKING_DATABASE}",
             "--telemetry=disable", "--log-level=error"],
            log_path=ctx.logs_dir / f"{name}-ferretdb.log", run_as=self.run_as,
            workdir=ctx.workdir,
        )

    @property
    def data_dir(self) -> Path:
        return self.data

    def exec_env(self) -> dict[str, str]:
        # the backing cluster through its socket (trusted there), and the wire protocol
        return {"PGHOST": str(self.home), "PGPORT": str(self.pg_port), "PGUSER": "drills",
                "PGDATABASE": BACKING_DATABASE,
                "MONGODB_URI": f"mongodb://drills:{self.endpoint.password}@{LOOPBACK}:"
                               f"{self.endpoint.port}/?authMechanism=PLAIN"}

    def exec_path(self) -> list[Path]:
        return [self.bindir, self.ferretdb.parent]

    def _initdb(self) -> None:
        self.home.mkdir(mode=0o700, exist_ok=True)
        self._own(self.home)
        pwfile = self.home / "pwfile"
        write_private(pwfile, self.endpoint.password + "\n")
        self._own(pwfile)
        if self.settings.storage == "lazyfs":
            self.mount_lazyfs(self.data)
        try:
            # FerretDB wants UTF8 and the C collation
            self.exec_checked([
                str(self.bindir / "initdb"), "-D", str(self.data), "-U", "drills",
                "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
                "-E", "UTF8", "--locale=C", "--no-sync", "--data-checksums",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write("\n# drills: the MongoDB stand-in's backing cluster\n"
                    + "".join(f"{k} = {v}\n" for k, v in self.backing_conf().items()))
        self.exec_checked([str(self.bindir / "postgres"), "--single", "-D", str(self.data),
                         "postgres"], stdin=f"CREATE DATABASE {BACKING_DATABASE} OWNER drills;\n")
        if self.lazyfs is not None:
            self.lazyfs.checkpoint()  # initdb's files, as on a server installed long before

    def backing_conf(self) -> dict[str, str]:
        """The PostgreSQL settings under FerretDB: its port, and the durability of ``j``."""
        return {
            "port": str(self.pg_port), "listen_addresses": f"'{LOOPBACK}'",
            "unix_socket_directories": f"'{self.home}'",
            "synchronous_commit": "on" if self.settings.j else "off",
            # FerretDB opens up to 50 connections per client login
            "max_connections": "200",
        }

    def start(self) -> None:
        """Both processes; FerretDB answers errors until its PostgreSQL accepts connections."""
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        if not self.proc.running():
            self.proc.start()
        if not self.front.running():
            self.front.start()

    def stop(self) -> None:
        self.front.stop(signal.SIGTERM)
        self.proc.stop(signal.SIGINT)  # PostgreSQL's fast shutdown

    def alive(self) -> bool:
        return self.proc.running() and self.front.running()

    def wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        front = self.front.wait(timeout) is not None
        return front and self.proc.wait(max(0.0, deadline - time.monotonic())) is not None

    def log_tail(self, lines: int = 20) -> str:
        return (f"PostgreSQL:\n{self.proc.log_tail(lines)}\n"
                f"FerretDB:\n{self.front.log_tail(lines)}")

    def lose_data(self) -> Action:
        """As for any server, and FerretDB too when its PostgreSQL had already died alone."""
        if not self.front.running() or self.proc.running():
            return super().lose_data()
        pids, at = self.front.signal_tree(signal.SIGKILL)
        self.front.wait(30)
        lost = super().lose_data()
        return Action(f"SIGKILL to FerretDB (pid {pids[0]}; its PostgreSQL had already "
                      f"stopped), then {lost.mechanism.removeprefix('server not running, then ')}",
                      at, lost.facts)

    def exec_offline(self, argv: Sequence[str], timeout_s: float = 600.0) -> ExecResult:
        if self.front.running():
            raise StackError(f"{self.name}: FerretDB is running: stop it before working on "
                             "its data")
        return super().exec_offline(argv, timeout_s)

    def _signal(self, sig: signal.Signals) -> Action:
        """``sig`` to FerretDB, then at once to PostgreSQL's process tree (those running)."""
        sent: list[Instant] = []
        told: list[str] = []
        count = 0
        for what, proc in (("FerretDB", self.front), ("PostgreSQL", self.proc)):
            if not proc.running():
                continue
            pids, at = proc.signal_tree(sig)
            sent.append(at)
            count += len(pids)
            told.append(f"{what} (pid {pids[0]}" + (f" and its {len(pids) - 1} child processes)"
                                                    if len(pids) > 1 else ")"))
        if not sent:
            raise StackError(f"{self.name} is not running; cannot send {sig.name}")
        return Action(f"{sig.name} to {' and '.join(told)}", sent[0], {"pids": count})

    def identify(self) -> Mapping[str, str]:
        from drills.kinds.mongodb import store

        return store.identify(self.endpoint)

    def describe(self) -> dict[str, Any]:
        ferret = ferretdb_version(self.ferretdb)
        backing = version_of(self.bindir / "postgres")
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": f"FerretDB {ferret} over PostgreSQL {backing}",
            "server": f"FerretDB {ferret} (a MongoDB wire-protocol server) over PostgreSQL "
                      f"{backing}: the local stand-in for mongod; its durability is "
                      "PostgreSQL's, not WiredTiger's",
            "binary": str(self.ferretdb), "data": str(self.data),
            "run_as": self.run_as.user if self.run_as else None,
            "endpoint": self.endpoint.public(),
            "settings": {**self.settings.conf(),
                         "backing synchronous_commit": self.backing_conf()["synchronous_commit"]},
        }


def service(name: str, settings: MongoSettings, ctx: LocalContext) -> LocalMongo:
    return LocalMongo(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"ferretdb": str(ferretdb_binary()), "bindir": str(postgres_bindir())}
