"""Redis: settings, local server, compose service, data-store adapter, offline image.

settings.py   RedisSettings
local.py      LocalRedis: redis-server with the persistence the drill asks for
compose.py    the service from the ``redis`` template of docker-compose.drill.yml
store.py      redis-py: workload keys, probe, read-back, identity (imported lazily)
image/        the offline image drills/redis:7 (drills/images/build.sh)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from drills.kinds.base import ServiceKind, ServiceSettings
from drills.kinds.redis.settings import RedisSettings

if TYPE_CHECKING:
    from drills.stack.compose_spec import ComposeContext, ComposeSpec
    from drills.stack.local import LocalContext
    from drills.stack.service import Service

__all__ = ["KIND", "RedisSettings"]


class RedisKind(ServiceKind):
    name = "redis"
    title = "Redis"
    settings_type = RedisSettings
    default_image = "redis:7"
    driver_modules = ("redis",)

    def local(self, name: str, settings: ServiceSettings, ctx: LocalContext) -> Service:
        from drills.kinds.redis.local import LocalRedis

        assert isinstance(settings, RedisSettings)
        return LocalRedis(name, settings, ctx)

    def compose(self, name: str, settings: ServiceSettings, ctx: ComposeContext) -> ComposeSpec:
        from drills.kinds.redis.compose import compose_spec

        assert isinstance(settings, RedisSettings)
        return compose_spec(name, settings, ctx)

    def local_servers(self) -> Mapping[str, Any]:
        from drills.kinds.redis.local import redis_server

        return {"binary": str(redis_server())}


KIND = RedisKind()
