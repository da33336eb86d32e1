"""etcd under the compose runtime: its service from the ``etcd`` template.

Host networking only: its Patroni members reach it at its host port on 127.0.0.1.
"""

from __future__ import annotations

import secrets

from drills.errors import StackError
from drills.kinds.etcd.server import EtcdServer, command
from drills.kinds.etcd.settings import EtcdSettings
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK, free_port

DATA_PATH = "/var/lib/etcd"


class ComposeEtcd(EtcdServer, ComposeService):
    """The etcd container; its identity is its member list, not a data store's."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.expect = self.spec.identity


#: the compose runtime builds this kind's services with this class
SERVICE_CLASS = ComposeEtcd


def compose_spec(name: str, settings: EtcdSettings, ctx: ComposeContext) -> ComposeSpec:
    if not ctx.hostnet:
        raise StackError(f"{name}: etcd and its Patroni members need host networking here; "
                         "run with DRILLS_NETWORK=host")
    port, inner = ctx.ports(2379)
    peer_url = f"http://{LOOPBACK}:{free_port()}"
    return ComposeSpec(
        endpoint=Endpoint("etcd", LOOPBACK, port, ""),
        container_port=inner,
        command=command(name, f"{DATA_PATH}/data", f"http://{LOOPBACK}:{inner}", peer_url,
                        f"drills-{secrets.token_hex(8)}"),
        data_path=DATA_PATH,
        identity={"name": name, "peer_url": peer_url},
        exec_env={"ETCDCTL_API": "3", "ETCDCTL_ENDPOINTS": f"{LOOPBACK}:{inner}"},
        settings={**settings.conf(), "client": f"{LOOPBACK}:{port}", "peer": peer_url},
    )
