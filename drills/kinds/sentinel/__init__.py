"""Redis Sentinel: watches a Redis primary and fails over to a replica when it goes down.

settings.py   SentinelSettings
watch.py      SentinelWatch: readiness, the primary it names, waiting for a failover, its
              events; sentinel.conf; ``client_endpoint()``, the address a drill loads through
local.py      LocalSentinel: ``redis-server sentinel.conf --sentinel``
compose.py    the service from the ``sentinel`` template of docker-compose.drill.yml
image/        the offline image drills/sentinel:7 (the Redis image under its own name)

A Sentinel holds no data: it has no data-store adapter. Clients reach the primary through
it with an endpoint whose ``discovery`` is ``sentinel:NAME`` (drills.kinds.redis.connect).
"""

from __future__ import annotations

from typing import ClassVar

from drills.kinds.base import ServiceKind
from drills.kinds.sentinel.settings import SentinelSettings

__all__ = ["KIND", "SentinelSettings"]


class SentinelKind(ServiceKind):
    name = "sentinel"
    title = "Redis Sentinel"
    settings_type = SentinelSettings
    default_image = "redis:7"
    driver_modules = ("redis",)
    MODULES: ClassVar[dict[str, tuple[str, ...]]] = {
        "local": ("service", "servers"),
        "compose": ("compose_spec",),
    }


KIND = SentinelKind()
