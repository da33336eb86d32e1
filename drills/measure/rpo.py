"""RPO as measured: which acknowledged writes are gone, and the window they span.

RPO = t_fault - t_ack of the oldest lost acknowledged write; 0 when none is lost
(DESIGN.md, measurement rule 4). It is reported beside the lost and unknown counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drills.history import Op
from drills.measure.checker import WriteCheck


@dataclass(frozen=True)
class Rpo:
    """The data-loss side of a drill."""

    window_s: float  # t_fault - oldest lost ack; 0.0 when nothing is lost
    lost_writes: int
    unknown_writes: int
    oldest_lost_ack_mono: float | None
    newest_lost_ack_mono: float | None
    acked_before_fault: int  # how many acknowledged writes could have been lost
    lost_after_fault: int = 0  # lost, yet acknowledged after t_fault (the fault took a while)

    @property
    def lost_span_s(self) -> float:
        """Time between the first and the last lost acknowledgement."""
        if self.oldest_lost_ack_mono is None or self.newest_lost_ack_mono is None:
            return 0.0
        return self.newest_lost_ack_mono - self.oldest_lost_ack_mono

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "lost_writes": self.lost_writes,
            "unknown_writes": self.unknown_writes,
            "lost_span_s": self.lost_span_s,
            "oldest_lost_ack_mono": self.oldest_lost_ack_mono,
            "newest_lost_ack_mono": self.newest_lost_ack_mono,
            "acked_before_fault": self.acked_before_fault,
            "lost_after_fault": self.lost_after_fault,
        }


def measure_rpo(check: WriteCheck, ops_by_id: Mapping[int, Op], t_fault: float) -> Rpo:
    """Compute the RPO of a drill whose fault started at monotonic time ``t_fault``."""
    acks = [ops_by_id[i].complete_mono for i in check.lost]
    lost_acks = [t for t in acks if t is not None]
    oldest = min(lost_acks) if lost_acks else None
    newest = max(lost_acks) if lost_acks else None
    acked_before = sum(
        1 for op in ops_by_id.values()
        if op.outcome == "ok" and op.complete_mono is not None and op.complete_mono <= t_fault
    )
    # A write acknowledged after the fault began (the server died over a few milliseconds,
    # e.g. the rest of a container after its PID 1) and then lost still counts as lost and
    # is counted apart; it adds nothing to the window, which is never negative.
    window = max(0.0, t_fault - oldest) if oldest is not None else 0.0
    return Rpo(
        window_s=window,
        lost_writes=len(check.lost),
        unknown_writes=check.unknown,
        oldest_lost_ack_mono=oldest,
        newest_lost_ack_mono=newest,
        acked_before_fault=acked_before,
        lost_after_fault=sum(1 for t in lost_acks if t > t_fault),
    )
