"""Redis as a local process, with the persistence the drill asks for."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drills.errors import StackError
from drills.kinds.redis import KIND
from drills.kinds.redis.replica import primary_of, replication_conf
from drills.kinds.redis.settings import RedisSettings, conf_text
from drills.stack.binaries import version_of
from drills.stack.endpoint import Endpoint
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import SupervisedProcess
from drills.stack.workdir import write_private


def redis_server() -> Path:
    """The redis-server binary: $DRILLS_REDIS_SERVER or PATH."""
    configured = os.environ.get("DRILLS_REDIS_SERVER") or shutil.which("redis-server")
    if configured and Path(configured).exists():
        return Path(configured)
    raise StackError(
        "redis-server not found. To fix this, either install it (apt-get install "
        "redis-server, or run scripts/setup.sh) or set DRILLS_REDIS_SERVER to its path."
    )


class LocalRedis(LocalService):
    """Redis with the persistence the scenario asks for; a replica if it names a primary."""

    kind = "redis"

    def __init__(self, name: str, settings: RedisSettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.home = ctx.workdir / name
        self.binary = redis_server()
        primary = primary_of(name, settings, ctx.services)
        #: the service it was started to follow (Sentinels find the replicas of a primary)
        self.replica_of = settings.replica_of
        #: (host, port) of the primary it follows; None: it is a primary
        self.upstream = None if primary is None else (primary.endpoint.host,
                                                      primary.endpoint.port)
        self.endpoint = Endpoint(kind="redis", host=LOOPBACK, port=free_port(),
                                 password=secrets.token_urlsafe(24) if primary is None
                                 else primary.endpoint.password)
        self.conf_path = self.home / "redis.conf"
        #: its AOF and RDB files: the home, or a LazyFS mount in it (storage=lazyfs)
        self.data = self.home / "data" if settings.storage == "lazyfs" or \
            settings.disk_bytes is not None else self.home
        self.proc = SupervisedProcess(
            name, [str(self.binary), str(self.conf_path)], log_path=ctx.logs_dir / f"{name}.log",
            workdir=ctx.workdir,
        )

    @property
    def data_dir(self) -> Path:
        return self.data

    def exec_env(self) -> dict[str, str]:
        return {"REDISCLI_AUTH": self.endpoint.password}

    def exec_path(self) -> list[Path]:
        return [self.binary.parent]

    def override_args(self, overrides: Mapping[str, str]) -> list[str]:
        return KIND.override_args(overrides)

    def start(self) -> None:
        if not self.conf_path.exists():
            self.home.mkdir(mode=0o700, exist_ok=True)
            if self.settings.storage == "lazyfs":
                self.mount_lazyfs(self.data)
            elif self.settings.disk_bytes is not None:
                self.mount_small_disk(self.data, self.settings.disk_bytes)
            conf = {
                "port": str(self.endpoint.port), "bind": LOOPBACK, "dir": str(self.data),
                "daemonize": "no", "logfile": '""', "protected-mode": "yes",
                "requirepass": self.endpoint.password, **self.settings.conf(),
                **replication_conf(self.upstream, self.endpoint.password),
            }
            write_private(self.conf_path, conf_text(conf))
        self.proc.start()

    def stop(self) -> None:
        self.proc.stop(signal.SIGTERM)

    def identify(self) -> Mapping[str, str]:
        from drills.kinds.redis import store

        found = store.identify(self.endpoint, {"dir": str(self.data)})
        if self.upstream is not None:
            store.replica_link(self.endpoint)
        return found

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": version_of(self.binary), "binary": str(self.binary),
            "data": str(self.data), "endpoint": self.endpoint.public(),
            "settings": self.settings.conf(),
            **({"replica_of": self.settings.replica_of,
                "upstream": "{}:{}".format(*self.upstream)} if self.upstream else {}),
        }


def service(name: str, settings: RedisSettings, ctx: LocalContext) -> LocalRedis:
    return LocalRedis(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"binary": str(redis_server())}
