"""A Patroni member under the compose runtime: its service from the ``patroni`` template.

patroni.yml (it holds the cluster's passwords) and the post_bootstrap script reach the
container as 0600 files owned by its postgres account (uid 999), mounted read-only.
Host networking only: members, etcd and HAProxy reach each other on 127.0.0.1. Patroni is
the container's PID 1 (it reaps PostgreSQL's processes itself), so a kill of the
container's main process is the loss of the node, Patroni and PostgreSQL together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from drills.errors import StackError
from drills.kinds.patroni.cluster import (
    DATABASE,
    SUPERUSER,
    Cluster,
    Layout,
    join,
    patroni_yml,
    post_bootstrap_script,
)
from drills.kinds.patroni.member import PatroniMember
from drills.kinds.patroni.settings import PatroniSettings
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK, free_port

IMAGE_UID = 999  # the postgres account of drills/patroni (image/build-rootfs.sh)
VOLUME_PATH = "/var/lib/postgresql/data"
#: a directory in the volume: Patroni wants to create (and own, 0700) the data directory
DATA_PATH = f"{VOLUME_PATH}/pgdata"
CONFIG_PATH = "/run/secrets/patroni.yml"
POST_BOOTSTRAP_PATH = "/run/secrets/post-bootstrap.sh"
BIN_DIR = "/usr/lib/postgresql/15/bin"
SOCKET_DIR = "/var/run/postgresql"


@dataclass(frozen=True)
class PatroniSpec(ComposeSpec):
    """The compose spec of a member, with the cluster it joins (shared with the others)."""

    cluster: Any = field(default=None, compare=False, repr=False)
    rest_port: int = 0


class ComposePatroni(PatroniMember, ComposeService):
    """The container of one member: Patroni (PID 1) and its PostgreSQL."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = self.spec
        assert isinstance(spec, PatroniSpec) and isinstance(spec.cluster, Cluster)
        self.cluster = spec.cluster
        self.rest_host, self.rest_port = LOOPBACK, spec.rest_port
        self.data_directory = DATA_PATH
        self.cluster.members.append(self)


#: the compose runtime builds this kind's services with this class
SERVICE_CLASS = ComposePatroni


def compose_spec(name: str, settings: PatroniSettings, ctx: ComposeContext) -> ComposeSpec:
    if not ctx.hostnet:
        raise StackError(f"{name}: Patroni members, etcd and HAProxy reach each other on "
                         "127.0.0.1 here; run with DRILLS_NETWORK=host")
    cluster = join(name, settings, ctx.services)
    port, inner = ctx.ports(5432)
    rest_port = free_port()
    layout = Layout(host=LOOPBACK, port=inner, rest_port=rest_port, data_dir=DATA_PATH,
                    bin_dir=BIN_DIR, socket_dir=SOCKET_DIR, pgpass="/tmp/pgpass",
                    post_bootstrap=["/bin/sh", POST_BOOTSTRAP_PATH])
    config = ctx.secret(f"{name}-patroni.yml", yaml.safe_dump(
        patroni_yml(name, cluster, layout), sort_keys=False), owner=IMAGE_UID)
    script = ctx.secret(f"{name}-post-bootstrap.sh", post_bootstrap_script("psql"),
                        owner=IMAGE_UID)
    return PatroniSpec(
        endpoint=Endpoint("postgres", LOOPBACK, port, cluster.superuser_password, SUPERUSER,
                          DATABASE),
        container_port=inner,
        # for the template's health check; not a PATRONI_* variable, which Patroni would read
        environment={"DRILLS_REST_PORT": str(rest_port)},
        command=["patroni", CONFIG_PATH],
        data_path=VOLUME_PATH,
        secret_mounts={CONFIG_PATH: config, POST_BOOTSTRAP_PATH: script},
        identity={"data_directory": DATA_PATH},
        # over the unix socket, which pg_hba trusts: no password
        exec_env={"PGHOST": SOCKET_DIR, "PGPORT": str(inner), "PGUSER": SUPERUSER,
                  "PGDATABASE": DATABASE},
        exec_user="postgres",
        settings={**settings.conf(), "rest_api": f"{LOOPBACK}:{rest_port}"},
        cluster=cluster,
        rest_port=rest_port,
    )
