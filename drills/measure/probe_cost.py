"""What the steady-state probe costs the load: its share of the server's work and of a core.

A finer probe gives a finer RTO clock (its interval is the RTO's resolution), and costs
the load it runs beside: each attempt is a write and a read on the probed server, from a
thread of the drill process. Measured in every drill, from the probe record and the
probe's own CPU time (``thread_time`` of its thread, noted when it stopped):

- attempts a second, as reached (not as asked);
- its writes and reads as a share of the load's acknowledged writes before the fault;
- the share of one core its thread used on the drill host.

``bench/probe_cost.py`` measures the load's rate with a 50 ms and a 10 ms probe, in turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from drills.measure.service_levels import PhaseLevels
from drills.record.history import ProbeAttempt
from drills.record.timeline import Event, EventKind


@dataclass(frozen=True)
class ProbeCost:
    """The probe's load beside the workload's."""

    attempts: int
    span_s: float  # from the first attempt's start to the last one's end
    cpu_s: float | None  # CPU time of the probe's thread; None in runs before drills 0.2
    load_rate_per_s: float | None  # the workload's acknowledged writes a second, before the fault

    @property
    def attempts_per_s(self) -> float | None:
        return self.attempts / self.span_s if self.span_s > 0 else None

    @property
    def share_of_load(self) -> float | None:
        """Probe operations (a write and a read each) per acknowledged write of the load."""
        if self.attempts_per_s is None or not self.load_rate_per_s:
            return None
        return 2 * self.attempts_per_s / self.load_rate_per_s

    @property
    def core_share(self) -> float | None:
        if self.cpu_s is None or self.span_s <= 0:
            return None
        return self.cpu_s / self.span_s

    def to_dict(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "span_s": self.span_s, "cpu_s": self.cpu_s,
                "attempts_per_s": self.attempts_per_s, "load_rate_per_s": self.load_rate_per_s,
                "share_of_load": self.share_of_load, "core_share": self.core_share}

    def text(self) -> str:
        parts = [f"{self.attempts_per_s:.0f} attempts a second" if self.attempts_per_s
                 else f"{self.attempts} attempts"]
        if self.share_of_load is not None and self.load_rate_per_s:
            parts.append(f"a write and a read each: {self.share_of_load:.1%} of the load's "
                         f"{self.load_rate_per_s:,.0f} acknowledged writes a second before the "
                         "fault")
        if self.core_share is not None:
            parts.append(f"its thread used {self.core_share:.1%} of one core of the drill host")
        return "; ".join(parts)


def probe_cost(probes: Sequence[ProbeAttempt], events: Sequence[Event],
               levels: Sequence[PhaseLevels]) -> ProbeCost | None:
    """The probe's cost in a drill, or None when it made no attempt."""
    if not probes:
        return None
    span = max(p.complete_mono for p in probes) - min(p.invoke_mono for p in probes)
    noted = next((e.data.get("probe") for e in events
                  if e.kind == EventKind.NOTE and e.name == "probe stopped"), None)
    cpu = noted.get("cpu_s") if isinstance(noted, dict) else None
    before = next((p for p in levels if p.phase == "before"), None)
    return ProbeCost(len(probes), span, float(cpu) if cpu is not None else None,
                     before.rate_per_s if before else None)
