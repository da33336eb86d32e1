"""Redis under the compose runtime: its service from the ``redis`` template.

Redis reads its password from its configuration file. The run's redis.conf is written
0600 into the run's 0700 secrets directory and mounted read-only; the template's
entrypoint copies it, as root, to a tmpfs readable by the redis account alone before the
image's own entrypoint starts the server. So the password is never in the container's
environment (``docker inspect``) and never world-readable on the host.
"""

from __future__ import annotations

import secrets

from drills.kinds.redis.settings import RedisSettings, conf_text
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK

DATA_PATH = "/data"  # the official image's working directory and volume
CONF_PATH = "/run/secrets/redis.conf"  # read by the template's entrypoint
BACKUP_PATH = "/backups"  # the service's backup directory, outside its data volume


def compose_spec(name: str, settings: RedisSettings, ctx: ComposeContext) -> ComposeSpec:
    port, inner = ctx.ports(6379)
    password = secrets.token_urlsafe(24)
    conf = {"port": str(inner), "bind": LOOPBACK if ctx.hostnet else "0.0.0.0",
            "dir": DATA_PATH, "protected-mode": "no", **settings.conf()}
    secret = ctx.secret(f"{name}.conf", conf_text({**conf, "requirepass": password}))
    return ComposeSpec(
        endpoint=Endpoint("redis", LOOPBACK, port, password),
        container_port=inner,
        environment={"REDIS_PORT": str(inner)},
        data_path=DATA_PATH,
        backup_path=BACKUP_PATH,
        secret_mounts={CONF_PATH: secret},
        identity={"dir": DATA_PATH},
        exec_env={"REDISCLI_AUTH": password},
        exec_user="redis",
        settings=conf,
    )
