"""RPO as measured: which acknowledged writes are gone, and the window they span.

RPO = t_fault - t_ack of the oldest write acknowledged before the fault and lost; 0 when
none is (docs/measurement.md rule 4). It is reported beside the lost and unknown counts.
Writes acknowledged after the fault began and lost are their own class (``lost_after_fault``,
spanning ``after_fault_span_s``): they add nothing to the window and are judged apart
(rule 12). When the oldest lost write is the drill's first acknowledged write, the window
is censored: the true RPO is at least the figure (rule 13).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from drills.measure.checker import WriteCheck
from drills.measure.scan import Joined
from drills.record.history.ops import OK, Op, ops_table


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
    #: the newest lost write acknowledged after t_fault, as time after t_fault
    after_fault_span_s: float = 0.0
    #: the first write of the drill that was acknowledged (monotonic)
    first_ack_mono: float | None = None

    @property
    def lost_before_fault(self) -> int:
        """The lost writes acknowledged by t_fault: those the RPO window spans."""
        return self.lost_writes - self.lost_after_fault

    @property
    def censored(self) -> bool:
        """Whether the loss reaches back to the drill's first acknowledged write.

        The window is then a lower bound: a longer load before the fault could have lost
        older writes.
        """
        return (self.oldest_lost_ack_mono is not None and self.first_ack_mono is not None
                and self.lost_before_fault > 0
                and self.oldest_lost_ack_mono <= self.first_ack_mono)

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
            "lost_before_fault": self.lost_before_fault,
            "after_fault_span_s": self.after_fault_span_s,
            "first_ack_mono": self.first_ack_mono,
            "window_censored": self.censored,
        }


class AckedBefore:
    """Counts the writes acknowledged by ``t_fault`` (a ``Scanner``).

    Those are the writes a fault could lose; it also finds the drill's first acknowledgement.
    """

    def __init__(self, t_fault: float) -> None:
        self.t_fault = t_fault
        self.count = 0
        self.first_ack: float | None = None

    def add(self, ops: np.ndarray, joined: Joined | None) -> None:
        acked = ops["outcome"] == OK
        self.count += int(np.count_nonzero(acked & (ops["complete"] <= self.t_fault)))
        times = ops["complete"][acked]
        times = times[~np.isnan(times)]
        if len(times):
            first = float(times.min())
            self.first_ack = first if self.first_ack is None else min(self.first_ack, first)


def acked_before(ops: Sequence[Op], t_fault: float) -> int:
    """``AckedBefore`` of a small history."""
    counter = AckedBefore(t_fault)
    counter.add(ops_table(ops), None)
    return counter.count


def measure_rpo(check: WriteCheck, acked_before_fault: int, t_fault: float,
                first_ack: float | None = None) -> Rpo:
    """Compute the RPO of a drill whose fault started at monotonic time ``t_fault``."""
    acks = check.lost_acks[~np.isnan(check.lost_acks)]
    oldest = float(acks.min()) if len(acks) else None
    newest = float(acks.max()) if len(acks) else None
    # A write acknowledged after the fault began (the server died over a few milliseconds,
    # e.g. the rest of a container after its PID 1; or an accident after which the server
    # went on acknowledging writes that the restore then discards) and then lost is counted
    # apart and judged on its own; it adds nothing to the window, which is never negative.
    before = acks[acks <= t_fault]
    window = t_fault - float(before.min()) if len(before) else 0.0
    after = acks[acks > t_fault]
    return Rpo(
        window_s=window,
        lost_writes=len(check.lost),
        unknown_writes=check.unknown,
        oldest_lost_ack_mono=oldest,
        newest_lost_ack_mono=newest,
        acked_before_fault=acked_before_fault,
        lost_after_fault=len(after),
        after_fault_span_s=float(after.max()) - t_fault if len(after) else 0.0,
        first_ack_mono=first_ack,
    )
