"""Toxiproxy: the network between the app and its stores, where network faults act.

settings.py   ToxiproxySettings
links.py      ProxyLinks: the links a Toxiproxy carries, created at its start, reset at its stop
local.py      LocalToxiproxy: toxiproxy-server (built from the Go module proxy by setup)
compose.py    the service from the ``toxiproxy`` template of docker-compose.drill.yml
image/        the offline image drills/toxiproxy:2.12.0 (FROM scratch, the static server)

Toxiproxy holds no data: it has no data-store adapter.
"""

from __future__ import annotations

from typing import ClassVar

from drills.kinds.base import ServiceKind
from drills.kinds.toxiproxy.settings import ToxiproxySettings

__all__ = ["KIND", "ToxiproxySettings"]

#: the version setup builds and the offline image holds
VERSION = "2.12.0"


class ToxiproxyKind(ServiceKind):
    name = "toxiproxy"
    title = "Toxiproxy"
    settings_type = ToxiproxySettings
    default_image = f"ghcr.io/shopify/toxiproxy:{VERSION}"
    driver_modules = ()
    MODULES: ClassVar[dict[str, tuple[str, ...]]] = {
        "local": ("service", "servers"),
        "compose": ("compose_spec",),
    }


KIND = ToxiproxyKind()
