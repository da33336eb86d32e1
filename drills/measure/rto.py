"""RTO as measured: time from the fault until the steady-state probe passes again.

RTO = t_first_good - t_fault (docs/measurement.md rule 5). t_fault is the start of the fault
step; t_first_good is the completion of the first probe that was invoked after the
fault step and every recovery step ended, and passed (answered, a write acknowledged and
read back, within the probe timeout). The RTO is split into phases at the fault, revert
and recovery steps. A service that never stopped answering (probes answered while the
failure was in place, and every probe after the fault passed: a cache lost behind an app
that falls back, a slow link) has an RTO of 0, to the longest gap between probe answers
around the fault. That needs a failure that lasted two probe intervals or more: a crash
and restart quicker than that (Redis restarts in 50 ms) can fall between two probes, and
keeps the definition above, as the service is known good only from the first probe after
the procedure. Damage the plan's monitor detected (drills.drill.Drill.detect_by) is an
outage however the probe answered: the recovery ends with the monitor passing again, and
the resolution is at least the monitor's polling interval.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from drills.plan import ProbeSpec
from drills.record.history import ProbeAttempt
from drills.record.timeline import Category, Step

_PHASE_STEPS = (Category.FAULT, Category.REVERT, Category.RECOVERY)


@dataclass(frozen=True)
class Phase:
    """A labelled slice of the outage, in seconds after t_fault."""

    name: str
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "start_s": self.start_s, "end_s": self.end_s,
                "duration_s": self.duration_s}


@dataclass(frozen=True)
class Rto:
    """The downtime side of a drill."""

    seconds: float | None  # None: no probe passed after the fault while we watched
    #: with an outage, the service came back within this long before t_first_good; with
    #: none (``outage_seen`` false), an outage up to this long could hide between answers
    resolution_s: float | None
    first_good_mono: float | None
    observed_s: float  # how long after the fault the probe was watched
    phases: tuple[Phase, ...]
    probe_interval_s: float  # as configured
    achieved_interval_s: float | None  # median gap between probe invocations
    probes_after_fault: int
    failed_probes_after_fault: int
    #: False when every probe after the fault passed: no outage, to the resolution
    outage_seen: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "outage_seen": self.outage_seen,
            "seconds": self.seconds,
            "resolution_s": self.resolution_s,
            "first_good_mono": self.first_good_mono,
            "observed_s": self.observed_s,
            "phases": [p.to_dict() for p in self.phases],
            "probe_interval_s": self.probe_interval_s,
            "achieved_interval_s": self.achieved_interval_s,
            "probes_after_fault": self.probes_after_fault,
            "failed_probes_after_fault": self.failed_probes_after_fault,
        }


def probe_passed(attempt: ProbeAttempt, spec: ProbeSpec) -> bool:
    """A probe passes when it succeeded within the probe timeout."""
    return attempt.ok and attempt.latency_s <= spec.timeout_s


def achieved_interval(probes: Sequence[ProbeAttempt]) -> float | None:
    """Median gap between consecutive probe invocations: the resolution reached."""
    gaps = [b.invoke_mono - a.invoke_mono for a, b in itertools.pairwise(probes)]
    return statistics.median(gaps) if gaps else None


def measure_rto(
    t_fault: float,
    fault_end: float,
    probes: Sequence[ProbeAttempt],
    steps: Sequence[Step],
    spec: ProbeSpec,
) -> Rto:
    """Compute the RTO from the probe record and the fault and recovery steps.

    The service is back when the recovery procedure has ended and the probe passes: a probe
    that passes in the middle of the procedure (a server restarted on a corrupted page,
    before the restore that replaces it) does not end the outage.
    """
    # the failure is in place until its revert took effect, or the last recovery step ended
    procedure_end = max([fault_end, *(s.end.mono for s in steps
                                      if s.category == Category.RECOVERY and s.end is not None
                                      and s.start.mono >= t_fault),
                         *(s.start.mono for s in steps
                           if s.category == Category.REVERT and s.start.mono >= t_fault)])
    after = [p for p in probes if p.invoke_mono >= fault_end]
    first_good = next((p for p in after if p.invoke_mono >= procedure_end
                       and probe_passed(p, spec)), None)
    observed = max((p.complete_mono for p in probes), default=t_fault) - t_fault
    end = first_good.complete_mono if first_good else t_fault + max(observed, 0.0)
    resolution = None
    seconds = None if first_good is None else first_good.complete_mono - t_fault
    outage_seen = True
    if first_good is not None:
        earlier = [p.complete_mono for p in probes
                   if p.complete_mono < first_good.complete_mono and p is not first_good]
        floor = max([t_fault, *earlier])
        resolution = first_good.complete_mono - floor
        # every answer from the fault to the first good probe after the failure's end
        watched = [p for p in probes if t_fault <= p.complete_mono <= first_good.complete_mono]
        during = [p for p in watched if p.invoke_mono >= fault_end
                  and p.complete_mono <= procedure_end]
        # two probe intervals as probed (an app's probe is slower than its interval)
        interval = max(spec.interval_s, achieved_interval(probes) or 0.0)
        long_enough = procedure_end - fault_end >= 2 * interval  # to be seen at all
        # damage the plan's monitor detected (an accidental DELETE): the probe answering
        # throughout is no sign of health; the outage ends when the monitor passes again
        monitor = next((s for s in steps if s.data.get("by_monitor")), None)
        if monitor is not None:
            resolution = max(resolution, float(monitor.data.get("resolution_s") or 0.0))
        elif during and long_enough and all(probe_passed(p, spec) for p in watched):
            # it never stopped answering: no outage, to the probe's resolution (the longest
            # gap between answers around the fault, in which a short one could hide)
            before = [p.complete_mono for p in probes if p.complete_mono < t_fault]
            times = [*before[-1:], *(p.complete_mono for p in watched)]
            outage_seen, seconds = False, 0.0
            resolution = max((b - a for a, b in itertools.pairwise(times)),
                             default=spec.interval_s)
    phase_steps = [s for s in steps if s.category in _PHASE_STEPS and s.start.mono >= t_fault]
    return Rto(
        outage_seen=outage_seen,
        seconds=seconds,
        resolution_s=resolution,
        first_good_mono=first_good.complete_mono if first_good else None,
        observed_s=max(observed, 0.0),
        # no outage, nothing to split: the steps are on the timeline all the same
        phases=() if not outage_seen else
        tuple(split_phases(t_fault, end, phase_steps, reached=first_good is not None)),
        probe_interval_s=spec.interval_s,
        achieved_interval_s=achieved_interval(probes),
        probes_after_fault=len(after),
        failed_probes_after_fault=sum(
            1 for p in after
            if not probe_passed(p, spec)
            and (first_good is None or p.invoke_mono < first_good.invoke_mono)
        ),
    )


def split_phases(
    t_fault: float, end: float, steps: Sequence[Step], *, reached: bool
) -> list[Phase]:
    """Cut [t_fault, end] into phases: steps, and the gaps before and after them."""
    phases: list[Phase] = []
    cursor = t_fault
    seen_recovery = False
    for step in sorted(steps, key=lambda s: s.start.mono):
        start = min(step.start.mono, end)
        stop = min(step.end.mono if step.end else end, end)
        if start > cursor:
            if step.category == Category.REVERT:
                gap = "fault active"
            elif step.category == Category.RECOVERY and not seen_recovery:
                gap = "detection"
            else:
                gap = "between steps"
            phases.append(Phase(gap, cursor - t_fault, start - t_fault))
        if stop > start or step.category == Category.FAULT:
            phases.append(Phase(f"{step.category}: {step.name}", start - t_fault, stop - t_fault))
        seen_recovery = seen_recovery or step.category == Category.RECOVERY
        cursor = max(cursor, stop)
    if end > cursor:
        phases.append(Phase("verification" if reached else "not recovered", cursor - t_fault,
                            end - t_fault))
    return phases
