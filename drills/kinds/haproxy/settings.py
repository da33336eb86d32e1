"""HAProxy settings: the Patroni members it forwards to, and which of them it picks."""

from __future__ import annotations

from dataclasses import dataclass

from drills.errors import StackError
from drills.kinds.base import ServiceSettings

#: Patroni's health endpoints HAProxy may check, and what answers 200 there
CHECKS = {
    "primary": "the leader, running as a primary",
    "replica": "a running replica",
    "read-only": "the leader or a running replica",
    "leader": "the leader (of a standby cluster too)",
}


@dataclass(frozen=True)
class HaproxySettings(ServiceSettings):
    """HAProxy in front of ``backends`` (Patroni services listed before it).

    Each member is checked on its REST API (``OPTIONS /<check>``, every 500 ms); only the
    members that answer 200 get connections, and the sessions of a member marked down are
    cut, so a client of the old leader reconnects to the new one.
    """

    backends: tuple[str, ...] = ()
    check: str = "primary"

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise StackError(f"HAProxy check {self.check!r}: use one of {', '.join(CHECKS)}")
        # a list from a plan or a caller: kept hashable and ordered
        object.__setattr__(self, "backends", tuple(self.backends))

    def conf(self) -> dict[str, str]:
        return {"backends": ", ".join(self.backends), "check": f"OPTIONS /{self.check}",
                "inter": "500ms", "fall": "2", "rise": "1",
                "on-marked-down": "shutdown-sessions"}
