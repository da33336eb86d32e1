"""The reference app under the compose runtime: its service from the ``app`` template.

Its passwords are files mounted read-only (never the container's environment, which
``docker inspect`` shows), owned by the image's ``app`` account (uid 10001) and 0600.
"""

from __future__ import annotations

from drills.errors import StackError
from drills.kinds.app.settings import AppSettings
from drills.kinds.app.upstreams import resolve
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK

APP_UID = 10001  # the account of drills/app:1 (image/build-rootfs.sh)
PG_PASSWORD = "/run/secrets/pg-password"
REDIS_PASSWORD = "/run/secrets/redis-password"


def compose_spec(name: str, settings: AppSettings, ctx: ComposeContext) -> ComposeSpec:
    if settings.proxy is None and not ctx.hostnet:
        # its stores' endpoints are host ports on 127.0.0.1: the container's own loopback
        raise StackError(f"{name}: the app reaches its stores directly only with host "
                         "networking (DRILLS_NETWORK=host); give it a Toxiproxy service")
    port, inner = ctx.ports(8080)
    upstreams = resolve(name, settings, ctx.services)
    pg = ctx.secret(f"{name}-pg-password", upstreams.database.service.endpoint.password + "\n",
                    owner=APP_UID)
    cache = ctx.secret(f"{name}-redis-password",
                       upstreams.cache.service.endpoint.password + "\n", owner=APP_UID)
    return ComposeSpec(
        endpoint=Endpoint("app", LOOPBACK, port, ""),
        container_port=inner,
        environment={**upstreams.environment(),
                     "APP_HOST": LOOPBACK if ctx.hostnet else "0.0.0.0", "APP_PORT": str(inner),
                     "APP_DEADLINE_S": f"{settings.deadline_s:g}",
                     "APP_PG_PASSWORD_FILE": PG_PASSWORD,
                     "APP_REDIS_PASSWORD_FILE": REDIS_PASSWORD},
        secret_mounts={PG_PASSWORD: pg, REDIS_PASSWORD: cache},
        identity={"instance": upstreams.instance},
        settings=settings.conf(),
    )
