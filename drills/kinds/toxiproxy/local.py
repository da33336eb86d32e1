"""Toxiproxy as a local process: toxiproxy-server, built from the Go module proxy by setup."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from drills.errors import StackError
from drills.kinds.toxiproxy.links import ProxyLinks
from drills.kinds.toxiproxy.settings import ToxiproxySettings
from drills.stack.binaries import find_program, version_of
from drills.stack.endpoint import Endpoint
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import SupervisedProcess


def toxiproxy_server() -> Path:
    """$DRILLS_TOXIPROXY_SERVER, else toxiproxy-server on PATH or beside this Python."""
    found = find_program("toxiproxy-server", "DRILLS_TOXIPROXY_SERVER")
    if found is not None:
        return found
    raise StackError(
        "toxiproxy-server not found. To fix this, either run scripts/setup.sh (it builds it "
        "with Go: go install github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0, installed "
        "as .venv/bin/toxiproxy-server) or set DRILLS_TOXIPROXY_SERVER to its path."
    )


class LocalToxiproxy(ProxyLinks, LocalService):
    """toxiproxy-server on a free loopback port; its proxies listen on loopback too."""

    kind = "toxiproxy"

    def __init__(self, name: str, settings: ToxiproxySettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.home = ctx.workdir / name
        self.binary = toxiproxy_server()
        self.endpoint = Endpoint(kind="toxiproxy", host=LOOPBACK, port=free_port(), password="")
        self._links = {}
        self.proc = SupervisedProcess(
            name, [str(self.binary), "-host", LOOPBACK, "-port", str(self.endpoint.port)],
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
        self.home.mkdir(mode=0o700, exist_ok=True)
        self.proc.start()

    def stop(self) -> None:
        self.release_links()
        self.proc.stop(signal.SIGTERM)

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": version_of(self.binary), "binary": str(self.binary),
            "endpoint": self.endpoint.public(), "links": self.describe_links(),
        }


def service(name: str, settings: ToxiproxySettings, ctx: LocalContext) -> LocalToxiproxy:
    return LocalToxiproxy(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"binary": str(toxiproxy_server())}
