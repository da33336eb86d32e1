"""Redis Sentinel settings: which primary it watches, and how quickly it gives up on it."""

from __future__ import annotations

from dataclasses import dataclass

from drills.kinds.base import ServiceSettings


@dataclass(frozen=True)
class SentinelSettings(ServiceSettings):
    """One Sentinel watching one Redis primary of the stack.

    Sentinels of one stack watching the same primary must agree on ``master_name`` and
    ``quorum``: the quorum is how many of them must see the primary down before one of
    them, elected by a majority of all of them, fails over.
    """

    #: the service name of the Redis primary it watches, listed before it in the stack
    monitors: str = "redis"
    #: the name clients ask the Sentinels for (``sentinel:NAME`` endpoints)
    master_name: str = "drills"
    quorum: int = 1
    #: how long the primary must not answer before this Sentinel sees it down (+sdown)
    down_after_ms: int = 1000
    #: the bound of one failover attempt; a failed one is retried after twice this
    failover_timeout_ms: int = 5000
    #: how many replicas resynchronise with the new primary at once
    parallel_syncs: int = 1

    def __post_init__(self) -> None:
        if not self.master_name or any(c.isspace() or c in "'\"" for c in self.master_name):
            raise ValueError(f"master_name {self.master_name!r}: one word, no quotes")
        for key in ("quorum", "down_after_ms", "failover_timeout_ms", "parallel_syncs"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be at least 1, not {getattr(self, key)}")

    def conf(self) -> dict[str, str]:
        """The per-primary directives, after ``sentinel monitor NAME HOST PORT QUORUM``."""
        return {
            "down-after-milliseconds": str(self.down_after_ms),
            "failover-timeout": str(self.failover_timeout_ms),
            "parallel-syncs": str(self.parallel_syncs),
        }
