"""The ``local`` runtime: the stack's servers as supervised child processes.

Everything lives in one temporary directory per run (drills.stack.workdir), on free
loopback ports chosen at run time.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drills.datastore import postgres as pg_store
from drills.datastore import redis_store
from drills.errors import StackError
from drills.stack import binaries
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import RunAs, SupervisedProcess
from drills.stack.service import Effect, Endpoint, Service
from drills.stack.settings import PostgresSettings, RedisSettings
from drills.stack.workdir import make_workdir


class LocalRuntime:
    """Creates local services in a per-run directory and removes it at the end."""

    name = "local"

    def __init__(self, run_id: str, logs_dir: Path) -> None:
        self.run_id = run_id
        self.logs_dir = logs_dir
        self.workdir = make_workdir(run_id, self.name)

    def services(self, wanted: Mapping[str, Any]) -> dict[str, Service]:
        made: dict[str, Service] = {}
        for name, settings in wanted.items():
            if isinstance(settings, PostgresSettings):
                made[name] = LocalPostgres(name, self.workdir / name, self.logs_dir, settings)
            elif isinstance(settings, RedisSettings):
                made[name] = LocalRedis(name, self.workdir / name, self.logs_dir, settings)
            else:
                raise StackError(f"the local runtime cannot run service {name!r} ({settings!r})")
        return made

    def describe(self) -> dict[str, Any]:
        return {"runtime": self.name, "workdir": str(self.workdir)}

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


class _LocalService(Service):
    """What local services share: a supervised process and its log."""

    runtime = "local"
    proc: SupervisedProcess

    def alive(self) -> bool:
        return self.proc.running()

    def kill(self) -> Effect:
        pids, sent = self.proc.signal_tree(signal.SIGKILL)
        return Effect(f"SIGKILL to pid {pids[0]} and its {len(pids) - 1} child processes", sent)

    def freeze(self) -> Effect:
        pids, sent = self.proc.signal_tree(signal.SIGSTOP)
        return Effect(f"SIGSTOP to pid {pids[0]} and its {len(pids) - 1} child processes", sent)

    def thaw(self) -> Effect:
        pids, sent = self.proc.signal_tree(signal.SIGCONT)
        return Effect(f"SIGCONT to pid {pids[0]} and its {len(pids) - 1} child processes", sent)

    def wait_exit(self, timeout: float) -> bool:
        return self.proc.wait(timeout) is not None

    def log_tail(self, lines: int = 20) -> str:
        return self.proc.log_tail(lines)


class LocalPostgres(_LocalService):
    """PostgreSQL with data checksums, run by the drill as a direct child."""

    kind = "postgres"

    def __init__(
        self, name: str, home: Path, logs_dir: Path, settings: PostgresSettings
    ) -> None:
        self.name = name
        self.settings = settings
        self.home = home
        self.data = home / "data"
        self.bindir = binaries.postgres_bindir()
        self.run_as = RunAs.for_server("PostgreSQL")
        self.endpoint = Endpoint(
            kind="postgres", host=LOOPBACK, port=free_port(), user="drills",
            database="drills", password=secrets.token_urlsafe(24),
        )
        self.proc = SupervisedProcess(
            name, [str(self.bindir / "postgres"), "-D", str(self.data)],
            log_path=logs_dir / f"{name}.log", run_as=self.run_as,
        )

    def _as_server(self, argv: list[str], stdin: str | None = None) -> None:
        if self.run_as is not None:
            argv = self.run_as.wrap(argv)
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StackError(f"{self.name}: {argv[-1] if stdin else ' '.join(argv)} failed "
                             f"(exit {done.returncode}):\n{done.stderr.strip()[-2000:]}")

    def _initdb(self) -> None:
        self.home.mkdir(mode=0o700)
        pwfile = self.home / "pwfile"
        pwfile.write_text(self.endpoint.password + "\n")
        pwfile.chmod(0o600)
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
        return pg_store.identify(self.endpoint, {"data_directory": str(self.data)})

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": binaries.version_of(self.bindir / "postgres"),
            "binary": str(self.bindir / "postgres"), "data": str(self.data),
            "run_as": self.run_as.user if self.run_as else None,
            "endpoint": self.endpoint.public(), "settings": self.settings.conf(),
        }


class LocalRedis(_LocalService):
    """Redis with the persistence the scenario asks for."""

    kind = "redis"

    def __init__(self, name: str, home: Path, logs_dir: Path, settings: RedisSettings) -> None:
        self.name = name
        self.settings = settings
        self.home = home
        self.binary = binaries.redis_server()
        self.endpoint = Endpoint(kind="redis", host=LOOPBACK, port=free_port(),
                                 password=secrets.token_urlsafe(24))
        self.conf_path = home / "redis.conf"
        self.proc = SupervisedProcess(
            name, [str(self.binary), str(self.conf_path)], log_path=logs_dir / f"{name}.log",
        )

    def start(self) -> None:
        if not self.conf_path.exists():
            self.home.mkdir(mode=0o700)
            conf = {
                "port": str(self.endpoint.port), "bind": LOOPBACK, "dir": str(self.home),
                "daemonize": "no", "logfile": '""', "protected-mode": "yes",
                "requirepass": self.endpoint.password, **self.settings.conf(),
            }
            self.conf_path.write_text("".join(f"{k} {v}\n" for k, v in conf.items()))
            self.conf_path.chmod(0o600)
        self.proc.start()

    def stop(self) -> None:
        self.proc.stop(signal.SIGTERM)

    def identify(self) -> Mapping[str, str]:
        return redis_store.identify(self.endpoint, {"dir": str(self.home)})

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": binaries.version_of(self.binary), "binary": str(self.binary),
            "data": str(self.home), "endpoint": self.endpoint.public(),
            "settings": self.settings.conf(),
        }
