"""What one server says about its replication: its role, its position, its lag.

Read through the kind's data-store adapter, so the same on every runtime: PostgreSQL's
``pg_is_in_recovery()``, WAL positions and ``pg_stat_replication``; Redis's
``INFO replication``. Positions are bytes of the server's own log (a PostgreSQL LSN, a
Redis replication offset), so a lag in bytes is a difference of two positions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["primary", "replica"]

#: a demoted primary's ledger, read before it rejoined (drills.record.readback format)
DEMOTED_ROWS = "demoted.bin"
DEMOTED_META = "demoted.json"


@dataclass(frozen=True)
class Downstream:
    """A replica as its primary sees it (pg_stat_replication, Redis ``slaveN``)."""

    #: where it connects from, or its application name: for people
    name: str
    #: replication state as the primary names it: streaming, catchup, online...
    state: str
    #: bytes of the primary's log the replica has not yet confirmed (written / applied)
    lag_bytes: int | None
    #: seconds behind, as the primary measures it (PostgreSQL's replay_lag), if it does
    lag_s: float | None = None
    #: async, sync, potential, quorum (PostgreSQL's sync_state); None where not told
    sync_state: str | None = None


@dataclass(frozen=True)
class ReplicationState:
    """One server's answer about its replication, at one instant."""

    role: Role
    #: its log position in bytes: the current write position of a primary, the replayed
    #: (applied) position of a replica
    position: int | None = None
    #: a replica: the position it has received (written by its WAL receiver)
    received: int | None = None
    #: a replica: whether it is connected to its upstream and streaming
    streaming: bool | None = None
    #: a replica: seconds since the last transaction it replayed was committed on the
    #: primary (0 when it has replayed everything it received and the primary is idle)
    lag_s: float | None = None
    #: a replica: the upstream it follows (host:port), as it was configured
    upstream: str | None = None
    #: a primary: its replicas
    downstream: tuple[Downstream, ...] = field(default_factory=tuple)
    #: a primary: how it waits for replicas before acknowledging (PostgreSQL's
    #: synchronous_standby_names; empty for asynchronous replication)
    synchronous: str | None = None
    #: a primary's timeline / a Redis replication id: a promotion changes it
    epoch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["downstream"] = [asdict(d) for d in self.downstream]
        return {k: v for k, v in data.items() if v is not None and v != []}
