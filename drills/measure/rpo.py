"""RPO as measured: which acknowledged writes are gone, and the window they span.

RPO = t_fault - t_ack of the oldest lost acknowledged write; 0 when none is lost
(DESIGN.md, measurement rule 4). It is reported beside the lost and unknown counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from drills.history.ops import OK, Op, ops_table
from drills.measure.checker import WriteCheck
from drills.measure.scan import Joined


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


class AckedBefore:
    """Counts the writes acknowledged by ``t_fault``: those a fault could lose (a ``Scanner``)."""

    def __init__(self, t_fault: float) -> None:
        self.t_fault = t_fault
        self.count = 0

    def add(self, ops: np.ndarray, joined: Joined | None) -> None:
        self.count += int(np.count_nonzero((ops["outcome"] == OK)
                                           & (ops["complete"] <= self.t_fault)))


def acked_before(ops: Sequence[Op], t_fault: float) -> int:
    """``AckedBefore`` of a small history."""
    counter = AckedBefore(t_fault)
    counter.add(ops_table(ops), None)
    return counter.count


def measure_rpo(check: WriteCheck, acked_before_fault: int, t_fault: float) -> Rpo:
    """Compute the RPO of a drill whose fault started at monotonic time ``t_fault``."""
    acks = check.lost_acks[~np.isnan(check.lost_acks)]
    oldest = float(acks.min()) if len(acks) else None
    newest = float(acks.max()) if len(acks) else None
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
        acked_before_fault=acked_before_fault,
        lost_after_fault=int(np.count_nonzero(acks > t_fault)),
    )
