"""Redis Sentinel under the compose runtime: its service from the ``sentinel`` template.

The Redis image, started as ``redis-server CONF --sentinel``. The run's sentinel.conf (it
holds the group's password) is written 0600 into the run's secrets directory and mounted
read-only; the template's entrypoint copies it, as root, into a directory of a tmpfs owned
by the redis account, since a Sentinel rewrites its configuration file (a temporary file
renamed over it) and refuses to start without a writable one.

Host networking only: a Sentinel hands clients the addresses it knows the primary and
replicas by; on a bridge network those are container addresses the host cannot reach
(``replica-announce-ip`` and ``sentinel announce-ip`` would be needed).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from drills.errors import StackError
from drills.kinds.sentinel.settings import SentinelSettings
from drills.kinds.sentinel.watch import (
    SentinelWatch,
    peers_of,
    replicas_of,
    sentinel_conf,
    watched,
)
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK
from drills.stack.service import Service

CONF_PATH = "/run/secrets/sentinel.conf"  # read by the template's entrypoint


class ComposeSentinel(SentinelWatch, ComposeService):
    """A Sentinel container. It does not wait for Sentinels listed after it (unknown here)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.monitors = self.spec.settings["monitors"]
        self.master_name = self.spec.settings["master_name"]
        self.myid = self.spec.settings["myid"]
        self._stack: Mapping[str, Service] = {}
        self._started = False

    def start(self) -> None:
        if not self._started:  # later starts follow the primary the Sentinel names now
            self.await_watched(_endpoint(self.spec.settings["primary"], self.endpoint.password),
                               [_endpoint(r, "") for r in
                                self.spec.settings["replicas"].split()])
            self._started = True
        super().start()

    def identify(self) -> dict[str, str]:
        found = super().identify()
        self._version = found["version"]
        return found


#: the compose runtime builds this kind's services with this class
SERVICE_CLASS = ComposeSentinel


def _endpoint(address: str, password: str) -> Endpoint:
    host, port = address.rsplit(":", 1)
    return Endpoint("redis", host, int(port), password)


def compose_spec(name: str, settings: SentinelSettings, ctx: ComposeContext) -> ComposeSpec:
    if not ctx.hostnet:
        raise StackError(f"{name}: a Sentinel hands out the addresses it knows servers by, "
                         "which on a bridge network the host cannot reach; run with "
                         "DRILLS_NETWORK=host")
    primary = watched(name, settings, ctx.services)
    port, inner = ctx.ports(26379)
    myid = secrets.token_hex(20)
    replicas = [s.endpoint for s in replicas_of(settings.monitors, ctx.services)]
    conf = sentinel_conf(
        settings, primary.endpoint, port=inner, bind=LOOPBACK, directory="/tmp", myid=myid,
        replicas=replicas,
        peers=peers_of(name, settings.monitors, settings.master_name, ctx.services))
    secret = ctx.secret(f"{name}.conf", conf)
    password = primary.endpoint.password
    return ComposeSpec(
        endpoint=Endpoint("sentinel", LOOPBACK, port, password),
        container_port=inner,
        environment={"REDIS_PORT": str(inner)},
        secret_mounts={CONF_PATH: secret},
        exec_env={"REDISCLI_AUTH": password},
        exec_user="redis",
        settings={"monitors": settings.monitors, "master_name": settings.master_name,
                  "myid": myid, "quorum": str(settings.quorum), **settings.conf(),
                  "primary": f"{primary.endpoint.host}:{primary.endpoint.port}",
                  "replicas": " ".join(f"{r.host}:{r.port}" for r in replicas)},
    )
