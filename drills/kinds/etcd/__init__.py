"""etcd: the distributed configuration store a Patroni cluster keeps its leader key in.

settings.py   EtcdSettings
server.py     EtcdServer: its HTTP API (version, health, members, one key), identity
local.py      LocalEtcd: a single-node etcd on free loopback ports
compose.py    the service from the ``etcd`` template of docker-compose.drill.yml
image/        the offline image drills/etcd:3.4.23 (Debian's etcd-server)

etcd holds no workload data: it has no data-store adapter. Killing it (or its loss) is
the fault that shows what a Patroni cluster does without its DCS.
"""

from __future__ import annotations

from typing import ClassVar

from drills.kinds.base import ServiceKind
from drills.kinds.etcd.settings import EtcdSettings

__all__ = ["KIND", "EtcdSettings"]

#: the version Debian bookworm ships, which the local runtime and the offline image run
VERSION = "3.4.23"


class EtcdKind(ServiceKind):
    name = "etcd"
    title = "etcd"
    settings_type = EtcdSettings
    default_image = f"quay.io/coreos/etcd:v{VERSION}"
    driver_modules = ()
    MODULES: ClassVar[dict[str, tuple[str, ...]]] = {
        "local": ("service", "servers"),
        "compose": ("compose_spec",),
    }


KIND = EtcdKind()
