"""Service levels per phase of a drill: rate, errors and latency quantiles (DESIGN.md rule 11).

Each write of the op history falls in the phase in which it was invoked:

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
from dataclasses import dataclass
from typing import Any

from drills.history import Op, Outcome
from drills.timeline import Category, Step

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


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile by the nearest-rank method (a value that was observed)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def phase_bounds(ops: Sequence[Op], steps: Sequence[Step], t_fault: float,
                 first_good: float | None) -> list[tuple[str, float, float]]:
    """(phase, start, end) on the monotonic clock; empty phases are kept (zero length)."""
    first = min((op.invoke_mono for op in ops), default=t_fault)
    last = max((op.invoke_mono for op in ops), default=t_fault)
    reverts = [s.start.mono for s in steps if s.category == Category.REVERT and s.ok
               and s.start.mono >= t_fault]
    recoveries = [s.end.mono for s in steps if s.category == Category.RECOVERY and s.end
                  and s.start.mono >= t_fault]
    fault_end = min(reverts) if reverts else max(recoveries, default=t_fault)
    recovered = max(first_good if first_good is not None else last, fault_end)
    cuts = [min(first, t_fault), t_fault, fault_end, recovered, max(last, recovered)]
    return [(name, cuts[i], cuts[i + 1]) for i, name in enumerate(PHASES)]


def measure_levels(ops: Sequence[Op], steps: Sequence[Step], t_fault: float,
                   first_good: float | None) -> tuple[PhaseLevels, ...]:
    """Service levels in each phase of the drill."""
    bounds = phase_bounds(ops, steps, t_fault, first_good)
    made = []
    for index, (name, start, end) in enumerate(bounds):
        last_phase = index == len(bounds) - 1
        inside = [op for op in ops if start <= op.invoke_mono < end
                  or (last_phase and op.invoke_mono == end)]
        counts = {o: 0 for o in Outcome}
        latencies = []
        for op in inside:
            counts[op.outcome] += 1
            if op.latency_s is not None:
                latencies.append(op.latency_s * 1000)
        latencies.sort()
        made.append(PhaseLevels(name, start, end, len(inside), counts[Outcome.OK],
                                counts[Outcome.FAIL], counts[Outcome.UNKNOWN],
                                quantile(latencies, 0.50), quantile(latencies, 0.95),
                                quantile(latencies, 0.99)))
    return tuple(made)
