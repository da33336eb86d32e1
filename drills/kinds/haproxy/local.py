"""HAProxy as a local process: haproxy in the foreground, on free loopback ports."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drills.errors import StackError
from drills.kinds.haproxy.config import Backend, haproxy_cfg
from drills.kinds.haproxy.server import HaproxyServer
from drills.kinds.haproxy.settings import HaproxySettings
from drills.kinds.patroni.member import PatroniMember
from drills.stack.binaries import version_of
from drills.stack.endpoint import Endpoint
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import SupervisedProcess
from drills.stack.service import Service
from drills.stack.workdir import write_private


def haproxy_binary() -> Path:
    """$DRILLS_HAPROXY, else haproxy on PATH or in /usr/sbin (Debian: haproxy)."""
    configured = os.environ.get("DRILLS_HAPROXY") or shutil.which("haproxy") or \
        shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if configured and Path(configured).is_file():
        return Path(configured)
    raise StackError("haproxy not found. To fix this, either install it (apt-get install "
                     "haproxy) or set DRILLS_HAPROXY to its path.")


def members_of(name: str, settings: HaproxySettings,
               services: Mapping[str, Service]) -> list[PatroniMember]:
    """The Patroni members HAProxy ``name`` forwards to: one cluster, listed before it."""
    if not settings.backends:
        raise StackError(f"HAProxy service {name}: no backends; name the Patroni services "
                         "it forwards to: HaproxySettings(backends=(...))")
    members = []
    for backend in settings.backends:
        found = services.get(backend)
        if not isinstance(found, PatroniMember):
            raise StackError(f"HAProxy service {name}: backend {backend!r} is not a Patroni "
                             f"service listed before it (listed: {', '.join(services)})")
        members.append(found)
    if len({id(m.cluster) for m in members}) != 1:
        raise StackError(f"HAProxy service {name}: its backends belong to different Patroni "
                         "clusters; give it the members of one scope")
    return members


def endpoint_of(members: list[PatroniMember], host: str, port: int) -> Endpoint:
    """The members' PostgreSQL endpoint (user, database, password), at the frontend."""
    first = members[0].endpoint
    return Endpoint(kind=first.kind, host=host, port=port, password=first.password,
                    user=first.user, database=first.database)


class LocalHaproxy(HaproxyServer, LocalService):
    """haproxy -db (foreground) with its configuration in the service's home."""

    kind = "haproxy"

    def __init__(self, name: str, settings: HaproxySettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.home = ctx.workdir / name
        self.binary = haproxy_binary()
        self.members = members_of(name, settings, ctx.services)
        self.backends = settings.backends
        self.endpoint = endpoint_of(self.members, LOOPBACK, free_port())
        self.stats_host, self.stats_port = LOOPBACK, free_port()
        self.conf_path = self.home / "haproxy.cfg"
        self.proc = SupervisedProcess(
            name, [str(self.binary), "-db", "-f", str(self.conf_path)],
            log_path=ctx.logs_dir / f"{name}.log", workdir=ctx.workdir, cwd=ctx.workdir,
        )

    @property
    def data_dir(self) -> Path:
        return self.home

    def exec_env(self) -> dict[str, str]:
        return {}

    def exec_path(self) -> list[Path]:
        return [self.binary.parent]

    def start(self) -> None:
        if not self.conf_path.exists():
            self.home.mkdir(mode=0o700, exist_ok=True)
            backends = [Backend(m.name, m.endpoint.host, m.endpoint.port, m.rest_port)
                        for m in self.members]
            write_private(self.conf_path, haproxy_cfg(
                self.name, LOOPBACK, self.endpoint.port, self.stats_port,
                self.settings.check, backends))
        self.proc.start()

    def stop(self) -> None:
        self.proc.stop(signal.SIGTERM)  # hard stop: every session closes now

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": version_of(self.binary), "binary": str(self.binary),
            "stats": f"{self.stats_host}:{self.stats_port}",
            "endpoint": self.endpoint.public(), "settings": self.settings.conf(),
        }


def service(name: str, settings: HaproxySettings, ctx: LocalContext) -> LocalHaproxy:
    return LocalHaproxy(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"binary": str(haproxy_binary())}
