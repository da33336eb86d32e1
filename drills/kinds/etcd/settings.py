"""etcd settings: none a drill needs yet; one node, on loopback, per service."""

from __future__ import annotations

from dataclasses import dataclass

from drills.kinds.base import ServiceSettings


@dataclass(frozen=True)
class EtcdSettings(ServiceSettings):
    """A single-node etcd, the DCS of the Patroni services that name it."""

    def conf(self) -> dict[str, str]:
        return {"members": "1"}
