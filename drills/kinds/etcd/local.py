"""etcd as a local process: one member on free loopback ports, supervised by the drill."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
from pathlib import Path
from typing import Any

from drills.errors import StackError
from drills.kinds.etcd.server import EtcdServer, command
from drills.kinds.etcd.settings import EtcdSettings
from drills.stack.binaries import version_of
from drills.stack.endpoint import Endpoint
from drills.stack.local_service import LocalContext, LocalService
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.process import SupervisedProcess


def etcd_binary() -> Path:
    """$DRILLS_ETCD, else etcd on PATH (Debian: etcd-server)."""
    configured = os.environ.get("DRILLS_ETCD") or shutil.which("etcd")
    if configured and Path(configured).is_file():
        return Path(configured)
    raise StackError("etcd not found. To fix this, either install it (apt-get install "
                     "etcd-server) or set DRILLS_ETCD to its path.")


class LocalEtcd(EtcdServer, LocalService):
    """A single-node etcd with its data in the service's home."""

    kind = "etcd"

    def __init__(self, name: str, settings: EtcdSettings, ctx: LocalContext) -> None:
        self.name = name
        self.settings = settings
        self.home = ctx.workdir / name
        self.binary = etcd_binary()
        self.endpoint = Endpoint(kind="etcd", host=LOOPBACK, port=free_port(), password="")
        self.peer_url = f"http://{LOOPBACK}:{free_port()}"
        self.expect = {"name": name, "peer_url": self.peer_url}
        argv = command(name, str(self.home / "data"), f"http://{LOOPBACK}:{self.endpoint.port}",
                       self.peer_url, f"drills-{secrets.token_hex(8)}")
        self.proc = SupervisedProcess(
            name, [str(self.binary), *argv[1:]], log_path=ctx.logs_dir / f"{name}.log",
            workdir=ctx.workdir, cwd=ctx.workdir,
        )

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def exec_env(self) -> dict[str, str]:
        return {"ETCDCTL_API": "3", "ETCDCTL_ENDPOINTS": f"{LOOPBACK}:{self.endpoint.port}"}

    def exec_path(self) -> list[Path]:
        return [self.binary.parent]

    def start(self) -> None:
        self.home.mkdir(mode=0o700, exist_ok=True)
        self.proc.start()

    def stop(self) -> None:
        self.proc.stop(signal.SIGTERM)

    def describe(self) -> dict[str, Any]:
        return {
            "service": self.name, "kind": self.kind, "runtime": self.runtime,
            "version": version_of(self.binary), "binary": str(self.binary),
            "data": str(self.data_dir), "peer_url": self.peer_url,
            "endpoint": self.endpoint.public(), "settings": self.settings.conf(),
        }


def service(name: str, settings: EtcdSettings, ctx: LocalContext) -> LocalEtcd:
    return LocalEtcd(name, settings, ctx)


def servers() -> dict[str, str]:
    return {"binary": str(etcd_binary())}
