"""Redis under the compose runtime: its service from the ``redis`` template.

Redis reads its password from its configuration file. The run's redis.conf is written
0600 into the run's 0700 secrets directory and mounted read-only; the template's
entrypoint copies it, as root, to a tmpfs readable by the redis account alone before the
image's own entrypoint starts the server. So the password is never in the container's
environment (``docker inspect``) and never world-readable on the host.

A replica (``replica_of``) gets ``replicaof`` and ``masterauth`` in that same file, and its
primary's password. It follows its primary at the primary's host port (host networking) or
at its service name and container port (a bridge network).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from drills.kinds.redis.replica import primary_of, replication_conf
from drills.kinds.redis.settings import RedisSettings, conf_text
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK
from drills.stack.service import Service

DATA_PATH = "/data"  # the official image's working directory and volume
CONF_PATH = "/run/secrets/redis.conf"  # read by the template's entrypoint
BACKUP_PATH = "/backups"  # the service's backup directory, outside its data volume


class ComposeRedis(ComposeService):
    """A Redis container; a replica is ready once its link to its primary is up."""

    @property
    def replica_of(self) -> str | None:
        """The service it was started to follow (Sentinels find the replicas of a primary)."""
        return self.spec.settings.get("replica_of")

    def identify(self) -> Mapping[str, str]:
        found = super().identify()
        if self.replica_of is not None:
            from drills.kinds.redis import store

            store.replica_link(self.endpoint)
        return found


#: the compose runtime builds this kind's services with this class
SERVICE_CLASS = ComposeRedis


def upstream(primary: Service, hostnet: bool) -> tuple[str, int]:
    """Where a replica's container reaches its primary's."""
    if hostnet:
        return primary.endpoint.host, primary.endpoint.port
    spec: ComposeSpec | None = getattr(primary, "spec", None)
    return primary.name, spec.container_port if spec is not None else 6379


def compose_spec(name: str, settings: RedisSettings, ctx: ComposeContext) -> ComposeSpec:
    port, inner = ctx.ports(6379)
    primary = primary_of(name, settings, ctx.services)
    password = secrets.token_urlsafe(24) if primary is None else primary.endpoint.password
    follows = None if primary is None else upstream(primary, ctx.hostnet)
    conf = {"port": str(inner), "bind": LOOPBACK if ctx.hostnet else "0.0.0.0",
            "dir": DATA_PATH, "protected-mode": "no", **settings.conf()}
    secret = ctx.secret(f"{name}.conf", conf_text(
        {**conf, "requirepass": password, **replication_conf(follows, password)}))
    if follows is not None and settings.replica_of is not None:  # shown, not in the file
        conf.update({"replicaof": f"{follows[0]} {follows[1]}", "replica_of": settings.replica_of})
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
        small_disk_path=DATA_PATH if settings.disk_bytes is not None else None,
        small_disk_bytes=settings.disk_bytes,
    )
