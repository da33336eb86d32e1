"""HAProxy under the compose runtime: its service from the ``haproxy`` template.

haproxy.cfg is generated per run (the members' ports) and mounted read-only, owned by
the image's haproxy account (uid 99, as in the official image). Host networking only:
the members it forwards to listen on 127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drills.errors import StackError
from drills.kinds.haproxy.config import Backend, haproxy_cfg
from drills.kinds.haproxy.local import endpoint_of, members_of
from drills.kinds.haproxy.server import HaproxyServer
from drills.kinds.haproxy.settings import HaproxySettings
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.ports import LOOPBACK, free_port

IMAGE_UID = 99  # the haproxy account of the official image and of drills/haproxy
CONFIG_PATH = "/usr/local/etc/haproxy/haproxy.cfg"  # the official image's


@dataclass(frozen=True)
class HaproxySpec(ComposeSpec):
    """The compose spec of an HAProxy service, with its stats page's port."""

    stats_port: int = 0
    backends: tuple[str, ...] = ()


class ComposeHaproxy(HaproxyServer, ComposeService):
    """The HAProxy container; its identity is its stats page, not a data store's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = self.spec
        assert isinstance(spec, HaproxySpec)
        self.stats_host, self.stats_port = LOOPBACK, spec.stats_port
        self.backends = spec.backends


#: the compose runtime builds this kind's services with this class
SERVICE_CLASS = ComposeHaproxy


def compose_spec(name: str, settings: HaproxySettings, ctx: ComposeContext) -> ComposeSpec:
    if not ctx.hostnet:
        raise StackError(f"{name}: HAProxy reaches the Patroni members on 127.0.0.1 here; "
                         "run with DRILLS_NETWORK=host")
    members = members_of(name, settings, ctx.services)
    port, inner = ctx.ports(5432)
    stats_port = free_port()
    backends = [Backend(m.name, m.endpoint.host, m.endpoint.port, m.rest_port)
                for m in members]
    config = ctx.secret(f"{name}-haproxy.cfg", haproxy_cfg(
        name, LOOPBACK, inner, stats_port, settings.check, backends), owner=IMAGE_UID)
    return HaproxySpec(
        endpoint=endpoint_of(members, LOOPBACK, port),
        container_port=inner,
        command=["haproxy", "-W", "-db", "-f", CONFIG_PATH],
        secret_mounts={CONFIG_PATH: config},
        settings={**settings.conf(), "stats": f"{LOOPBACK}:{stats_port}"},
        stats_port=stats_port,
        backends=settings.backends,
    )
