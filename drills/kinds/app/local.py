"""The reference app as a local process: refapp.py run by this Python (drills' own venv)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drills.kinds.app.settings import AppSettings
from drills.kinds.app.upstreams import resolve
from drills.stack.endpoint import Endpoint
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import SupervisedProcess
from drills.stack.workdir import write_private

REFAPP = Path(__file__).with_name("refapp.py")


class LocalApp(LocalService):
    """The app on a free loopback port; its passwords in 0600 files of its home."""

    kind = "app"

    def __init__(self, name: str, settings: AppSettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.home = ctx.workdir / name
        self.upstreams = resolve(name, settings, ctx.services)
        self._version = "unknown"  # refapp's, from its health check
        self.endpoint = Endpoint(kind="app", host=LOOPBACK, port=free_port(), password="")
        env = {
            **self.upstreams.environment(), "APP_HOST": LOOPBACK,
            "APP_PORT": str(self.endpoint.port), "APP_DEADLINE_S": f"{settings.deadline_s:g}",
            "APP_PG_PASSWORD_FILE": str(self.home / "pg-password"),
            "APP_REDIS_PASSWORD_FILE": str(self.home / "redis-password"),
            "PYTHONUNBUFFERED": "1",
        }
        self.proc = SupervisedProcess(
            name, [sys.executable, str(REFAPP)], log_path=ctx.logs_dir / f"{name}.log",
            env=env, workdir=ctx.workdir, cwd=ctx.workdir,
        )

    @property
    def data_dir(self) -> Path:
        return self.home

    def exec_env(self) -> dict[str, str]:
        return {}

    def exec_path(self) -> list[Path]:
        return [Path(sys.executable).parent]

    def start(self) -> None:
        if not self.home.exists():  # the first start; a restart finds its files in place
            self.home.mkdir(mode=0o700)
            write_private(self.home / "pg-password",
                          self.upstreams.database.service.endpoint.password + "\n")
            write_private(self.home / "redis-password",
                          self.upstreams.cache.service.endpoint.password + "\n")
        self.proc.start()

    def stop(self) -> None:
        self.proc.stop(signal.SIGTERM)

    def identify(self) -> Mapping[str, str]:
        from drills.kinds.app import store

        found = store.identify(self.endpoint, {"instance": self.upstreams.instance})
        self._version = found["version"]
        return found

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": self._version, "program": str(REFAPP),
            "python": sys.version.split()[0], "endpoint": self.endpoint.public(),
            "settings": self.settings.conf(),
            "database": f"{self.upstreams.database.service.name} via "
                        f"{self.upstreams.database.host}:{self.upstreams.database.port}",
            "cache": f"{self.upstreams.cache.service.name} via "
                     f"{self.upstreams.cache.host}:{self.upstreams.cache.port}",
        }


def service(name: str, settings: AppSettings, ctx: LocalContext) -> LocalApp:
    return LocalApp(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"program": str(REFAPP), "python": sys.executable}
