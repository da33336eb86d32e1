"""Redis Sentinel as a local process: ``redis-server sentinel.conf --sentinel``.

Its configuration file lives in its own 0700 directory: a Sentinel rewrites the file as
its state changes (the primary it follows, the replicas and Sentinels it learnt, the
epochs), and the file holds the group's password.
"""

from __future__ import annotations

import secrets
import signal
from pathlib import Path
from typing import Any

from drills.kinds.redis.local import redis_server
from drills.kinds.sentinel.settings import SentinelSettings
from drills.kinds.sentinel.watch import (
    SentinelWatch,
    peers_of,
    replicas_of,
    sentinel_conf,
    watched,
)
from drills.stack.binaries import version_of
from drills.stack.endpoint import Endpoint
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import SupervisedProcess
from drills.stack.workdir import write_private


class LocalSentinel(SentinelWatch, LocalService):
    """One Sentinel watching one Redis primary of the stack, on a free loopback port."""

    kind = "sentinel"

    def __init__(self, name: str, settings: SentinelSettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.monitors = settings.monitors
        self.master_name = settings.master_name
        self.myid = secrets.token_hex(20)
        self.primary_service = watched(name, settings, ctx.services)
        # the stack's own mapping: by the time the stack is up it lists the Sentinels after
        # this one too, which this one must know before it is ready
        self._stack = ctx.services
        self.home = ctx.workdir / name
        self.binary = redis_server()
        self.endpoint = Endpoint(kind="sentinel", host=LOOPBACK, port=free_port(),
                                 password=self.primary_service.endpoint.password)
        self.conf_path = self.home / "sentinel.conf"
        self.proc = SupervisedProcess(
            name, [str(self.binary), str(self.conf_path), "--sentinel"],
            log_path=ctx.logs_dir / f"{name}.log", workdir=ctx.workdir,
        )

    @property
    def data_dir(self) -> Path:
        return self.home

    def exec_env(self) -> dict[str, str]:
        return {"REDISCLI_AUTH": self.endpoint.password}

    def exec_path(self) -> list[Path]:
        return [self.binary.parent]

    def start(self) -> None:
        if not self.conf_path.exists():  # later starts keep what the Sentinel rewrote
            replicas = [s.endpoint for s in replicas_of(self.monitors, self._stack)]
            self.await_watched(self.primary_service.endpoint, replicas)
            self.home.mkdir(mode=0o700, exist_ok=True)
            peers = peers_of(self.name, self.monitors, self.master_name, self._stack)
            write_private(self.conf_path, sentinel_conf(
                self.settings, self.primary_service.endpoint, port=self.endpoint.port,
                bind=LOOPBACK, directory=str(self.home), myid=self.myid, replicas=replicas,
                peers=peers))
        self.proc.start()

    def stop(self) -> None:
        self.proc.stop(signal.SIGTERM)

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": version_of(self.binary), "binary": f"{self.binary} --sentinel",
            "data": str(self.home), "endpoint": self.endpoint.public(),
            "settings": {"monitors": self.monitors, "master_name": self.master_name,
                         "quorum": str(self.settings.quorum), **self.settings.conf()},
        }


def service(name: str, settings: SentinelSettings, ctx: LocalContext) -> LocalSentinel:
    return LocalSentinel(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"binary": f"{redis_server()} --sentinel"}
