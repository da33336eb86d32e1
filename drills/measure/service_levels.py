"""Service levels per phase of a drill: rate, errors, latency quantiles (measurement rule 11).

Each write of the op history falls in the phase in which it was invoked (``LevelsScan``,
fed the history a chunk at a time; it keeps counts and the latencies for exact quantiles):

before     from the first write to t_fault
fault      from t_fault while the failure is in place: to its revert (a network fault, a
           freeze) or, for a fault that is not reverted (a kill, a loss), to the end of the
           last recovery step (until then the failure is still there)
recovery   from there to the first good probe (the RTO's end): the service coming back
after      from the first good probe to the last write

Rate is acknowledged writes per second. Availability is the fraction of writes invoked in
the phase that were acknowledged; the error rate counts ``fail`` and ``unknown`` alike.
Latency is from invoke to completion, over every completed write (``ok``, ``fail`` and
``unknown`` answers: a timeout's 2 s counts as the user waited for it), in ms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drills.measure.ids import concat
from drills.measure.scan import Joined
from drills.record.history.ops import FAIL, OK, UNKNOWN, Op, ops_table
from drills.record.timeline import Category, Step

PHASES = ("before", "fault", "recovery", "after")


@dataclass(frozen=True)
class PhaseLevels:
    """What users saw in one phase."""

    phase: str
    start_mono: float
    end_mono: float
    writes: int
    ok: int
    fail: int
    unknown: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def duration_s(self) -> float:
        return max(self.end_mono - self.start_mono, 0.0)

    @property
    def rate_per_s(self) -> float | None:
        return self.ok / self.duration_s if self.duration_s > 0 else None

    @property
    def availability(self) -> float | None:
        return self.ok / self.writes if self.writes else None

    @property
    def error_rate(self) -> float | None:
        return (self.fail + self.unknown) / self.writes if self.writes else None

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "start_mono": self.start_mono, "end_mono": self.end_mono,
                "duration_s": self.duration_s, "writes": self.writes, "ok": self.ok,
                "fail": self.fail, "unknown": self.unknown, "rate_per_s": self.rate_per_s,
                "availability": self.availability, "error_rate": self.error_rate,
                "p50_ms": self.p50_ms, "p95_ms": self.p95_ms, "p99_ms": self.p99_ms}


def quantile(sorted_values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """The ``q`` quantile by the nearest-rank method (a value that was observed)."""
    if not len(sorted_values):
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return float(sorted_values[rank - 1])


def fault_end_of(steps: Sequence[Step], t_fault: float) -> float:
    """Until the revert of the fault took effect, or else the end of the last recovery step."""
    reverts = [s.start.mono for s in steps if s.category == Category.REVERT and s.ok
               and s.start.mono >= t_fault]
    recoveries = [s.end.mono for s in steps if s.category == Category.RECOVERY and s.end
                  and s.start.mono >= t_fault]
    return min(reverts) if reverts else max(recoveries, default=t_fault)


def phase_bounds(first: float, last: float, steps: Sequence[Step], t_fault: float,
                 first_good: float | None) -> list[tuple[str, float, float]]:
    """(phase, start, end) on the monotonic clock, for writes invoked in [first, last].

    Empty phases are kept (zero length).
    """
    fault_end = fault_end_of(steps, t_fault)
    recovered = max(first_good if first_good is not None else last, fault_end)
    cuts = [min(first, t_fault), t_fault, fault_end, recovered, max(last, recovered)]
    return [(name, cuts[i], cuts[i + 1]) for i, name in enumerate(PHASES)]


@dataclass
class _Phase:
    counts: dict[int, int] = field(default_factory=lambda: {OK: 0, FAIL: 0, UNKNOWN: 0})
    latencies_ms: list[np.ndarray] = field(default_factory=list)

    def add(self, ops: np.ndarray) -> None:
        for code in self.counts:
            self.counts[code] += int(np.count_nonzero(ops["outcome"] == code))
        done = ~np.isnan(ops["complete"])
        self.latencies_ms.append((ops["complete"][done] - ops["invoke"][done]) * 1000)

    def levels(self, name: str, start: float, end: float) -> PhaseLevels:
        latencies = np.sort(concat(self.latencies_ms).astype(np.float64))
        return PhaseLevels(name, start, end, sum(self.counts.values()), self.counts[OK],
                           self.counts[FAIL], self.counts[UNKNOWN], quantile(latencies, 0.50),
                           quantile(latencies, 0.95), quantile(latencies, 0.99))


class LevelsScan:
    """Service levels in each phase of the drill (a ``Scanner``).

    When the service never answered again (no first good probe), "recovery" runs to the
    last write invoked and "after" holds only the writes invoked at that last instant:
    those are kept apart until the end shows which they are.
    """

    def __init__(self, steps: Sequence[Step], t_fault: float, first_good: float | None) -> None:
        self.steps, self.t_fault, self.first_good = steps, t_fault, first_good
        fault_end = fault_end_of(steps, t_fault)
        self.cuts = np.array([t_fault, fault_end] if first_good is None
                             else [t_fault, fault_end, max(first_good, fault_end)])
        self.phases = [_Phase() for _ in PHASES]
        self.first, self.last = math.inf, -math.inf
        self._tail: list[np.ndarray] = []  # the writes at the latest invoke seen, unplaced
        self._tail_at = -math.inf

    def add(self, ops: np.ndarray, joined: Joined | None) -> None:
        if not len(ops):
            return
        invoke = ops["invoke"]
        self.first = min(self.first, float(invoke.min()))
        self.last = max(self.last, float(invoke.max()))
        index = np.searchsorted(self.cuts, invoke, side="right")
        for phase in range(len(self.cuts) + 1):
            inside = ops[index == phase]
            if phase == 2 and self.first_good is None:
                self._place_late(inside)
            elif len(inside):
                self.phases[phase].add(inside)

    def _place_late(self, ops: np.ndarray) -> None:
        """Writes invoked after the fault ended, when no probe passed again."""
        if not len(ops):
            return
        latest = float(ops["invoke"].max())
        if latest > self._tail_at:
            for held in self._tail:
                self.phases[2].add(held)
            self._tail, self._tail_at = [], latest
        at_tail = ops["invoke"] == self._tail_at
        self._tail.append(ops[at_tail])
        self.phases[2].add(ops[~at_tail])

    def finish(self) -> tuple[PhaseLevels, ...]:
        """The levels of each phase, once every chunk was added (call it once)."""
        if self.first == math.inf:
            return ()
        for held in self._tail:
            self.phases[3].add(held)
        self._tail = []
        bounds = phase_bounds(self.first, self.last, self.steps, self.t_fault, self.first_good)
        return tuple(phase.levels(name, start, end)
                     for phase, (name, start, end) in zip(self.phases, bounds, strict=True))


def measure_levels(ops: Sequence[Op], steps: Sequence[Step], t_fault: float,
                   first_good: float | None) -> tuple[PhaseLevels, ...]:
    """Service levels in each phase of a small history."""
    scanner = LevelsScan(steps, t_fault, first_good)
    scanner.add(ops_table(ops), None)
    return scanner.finish()
