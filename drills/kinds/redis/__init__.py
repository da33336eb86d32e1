"""Redis: settings, local server, compose service, data-store adapter, offline image.

settings.py   RedisSettings
local.py      LocalRedis: redis-server with the persistence the drill asks for
compose.py    the service from the ``redis`` template of docker-compose.drill.yml
store.py      redis-py: workload keys, probe, read-back, identity (imported lazily)
image/        the offline image drills/redis:7 (drills/images/build.sh)
"""

from __future__ import annotations

from collections.abc import Mapping

from drills.kinds.base import ServiceKind
from drills.kinds.redis.settings import RedisSettings

__all__ = ["KIND", "RedisSettings"]


class RedisKind(ServiceKind):
    name = "redis"
    title = "Redis"
    settings_type = RedisSettings
    default_image = "redis:7"
    plan_builtin = True
    ledger = "keys drills:w:*, drills:p:* and drills:keyspace"
    backup_methods = ("rdb",)
    check_language = "redis"
    def override_args(self, overrides: Mapping[str, str]) -> list[str]:
        return [arg for key, value in overrides.items() for arg in (f"--{key}", value)]

    driver_modules = ("redis",)


KIND = RedisKind()
