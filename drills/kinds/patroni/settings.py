"""Patroni settings: the cluster a member belongs to, its timing, and PostgreSQL's parameters.

Every member of one ``scope`` must be given the same settings: Patroni keeps them in the
DCS as the cluster's dynamic configuration, written once by the member that bootstraps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from drills.errors import StackError
from drills.kinds.base import ServiceSettings

_SCOPE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

#: Patroni's documented minimums (its validator enforces them from 3.1 on)
MIN_TTL, MIN_LOOP_WAIT, MIN_RETRY_TIMEOUT = 20, 1, 3

#: postgresql.conf parameters of every member unless ``postgres`` says otherwise
DEFAULT_PARAMETERS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "shared_buffers": "128MB",
    "max_connections": "100",
    "log_min_messages": "warning",
    "log_line_prefix": "%m [%p] ",
}


@dataclass(frozen=True)
class PatroniSettings(ServiceSettings):
    """One Patroni member (one PostgreSQL server) of the cluster ``scope``.

    ``dcs`` names the etcd service of the stack the cluster keeps its state in; it must be
    listed before the member. Defaults are Patroni's minimums for the leader key's ``ttl``,
    the HA loop's ``loop_wait`` and ``retry_timeout`` (``loop_wait + 2 * retry_timeout <=
    ttl``): a killed leader's key expires after at most ``ttl`` seconds, and only then
    does a replica take over.
    """

    dcs: str = "etcd"
    scope: str = "drills"
    ttl: int = MIN_TTL
    loop_wait: int = MIN_LOOP_WAIT
    retry_timeout: int = MIN_RETRY_TIMEOUT
    #: a commit waits for one replica (Patroni manages synchronous_standby_names), and
    #: only that replica may be promoted
    synchronous_mode: bool = False
    #: bytes a replica may lag and still be promoted
    maximum_lag_on_failover: int = 1048576
    #: postgresql.conf parameters, over DEFAULT_PARAMETERS
    postgres: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _SCOPE.match(self.scope):
            raise StackError(f"Patroni scope {self.scope!r}: use 1 to 63 lower-case letters, "
                             "digits, '-' and '_'")
        for key, value, least in (("ttl", self.ttl, MIN_TTL),
                                  ("loop_wait", self.loop_wait, MIN_LOOP_WAIT),
                                  ("retry_timeout", self.retry_timeout, MIN_RETRY_TIMEOUT)):
            if value < least:
                raise StackError(f"Patroni {key}={value}: Patroni's minimum is {least}")
        if self.loop_wait + 2 * self.retry_timeout > self.ttl:
            raise StackError(
                f"Patroni timing ttl={self.ttl}, loop_wait={self.loop_wait}, retry_timeout="
                f"{self.retry_timeout}: Patroni needs loop_wait + 2 * retry_timeout <= ttl; "
                "raise ttl or lower the others")

    def parameters(self) -> dict[str, str]:
        """postgresql.conf parameters of every member (the cluster's, in the DCS)."""
        return {**DEFAULT_PARAMETERS, **self.postgres}

    def dynamic(self) -> dict[str, object]:
        """The cluster's dynamic configuration (``bootstrap.dcs`` of patroni.yml)."""
        return {
            "ttl": self.ttl, "loop_wait": self.loop_wait, "retry_timeout": self.retry_timeout,
            "maximum_lag_on_failover": self.maximum_lag_on_failover,
            "synchronous_mode": self.synchronous_mode,
            "postgresql": {"use_pg_rewind": True, "use_slots": True,
                           "parameters": self.parameters()},
        }

    def conf(self) -> dict[str, str]:
        return {
            "dcs": self.dcs, "scope": self.scope, "ttl": str(self.ttl),
            "loop_wait": str(self.loop_wait), "retry_timeout": str(self.retry_timeout),
            "synchronous_mode": "on" if self.synchronous_mode else "off",
            "maximum_lag_on_failover": str(self.maximum_lag_on_failover),
            **self.parameters(),
        }
