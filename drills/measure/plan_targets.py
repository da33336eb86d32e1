"""What only a version 2 plan asks: manual steps in the RTO, phase limits, its checks.

- **Manual steps** (a person updates DNS) take no time in the drill; the plan states their
  duration. The RTO judged against the target is the measured RTO plus those stated
  durations, and both parts are shown, the second marked "stated, not measured".
- **Phase limits** (DESIGN.md rule 5): detection is the fault until the drill saw the
  failure; decision and execution are the recovery steps the plan puts in each (measured,
  plus stated manual durations); verification is the end of the last recovery step until
  the first good probe.
- **Checks** after recovery (an HTTP answer, a SQL count): one verdict row each, as the
  drill recorded them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drills.measure.findings import Finding
from drills.measure.rto import Rto
from drills.measure.verdict import TargetCheck, Verdict, fmt_s
from drills.plan.scenario_spec import CheckKind
from drills.timeline import Category, Step

DETECT_STEP = "detect the disaster"


@dataclass(frozen=True)
class PhaseTime:
    """How long one plan phase took: measured, plus what manual steps in it state."""

    measured_s: float | None  # None: the phase never ended (the service never came back)
    stated_s: float = 0.0

    @property
    def total_s(self) -> float | None:
        return None if self.measured_s is None else self.measured_s + self.stated_s


def manual_steps(steps: Sequence[Step]) -> list[Step]:
    return [s for s in steps if s.category == Category.RECOVERY and s.end is not None
            and s.data.get("manual")]


def stated_manual_s(steps: Sequence[Step]) -> float:
    """The durations the plan states for the manual steps the drill went through."""
    return sum(float(s.data.get("stated_s", 0.0)) for s in manual_steps(steps))


def phase_times(steps: Sequence[Step], rto: Rto | None, t_fault: float) -> dict[str, PhaseTime]:
    recovery = [s for s in steps if s.category == Category.RECOVERY and s.end is not None
                and s.start.mono >= t_fault - 1e-9]
    detect = next((s for s in recovery if s.name == DETECT_STEP), None)
    times: dict[str, PhaseTime] = {}
    if detect is not None and detect.end is not None:
        times["detection"] = PhaseTime(detect.end.mono - t_fault)
    for phase in ("decision", "execution"):
        mine = [s for s in recovery if s.data.get("plan_phase") == phase]
        measured = sum(s.end.mono - s.start.mono for s in mine if s.end is not None
                       and not s.data.get("manual"))
        stated = sum(float(s.data.get("stated_s", 0.0)) for s in mine if s.data.get("manual"))
        times[phase] = PhaseTime(measured, stated)
    last_end = max((s.end.mono for s in recovery if s.end is not None), default=t_fault)
    good = rto.first_good_mono if rto is not None else None
    times["verification"] = PhaseTime(None if good is None else max(0.0, good - last_end))
    return times


def phase_rows(limits: Mapping[str, float], times: Mapping[str, PhaseTime],
               findings: list[Finding]) -> list[TargetCheck]:
    rows = []
    for phase, limit in limits.items():
        key, title, target = f"phase.{phase}", f"RTO phase: {phase}", f"<= {fmt_s(limit)}"
        found = times.get(phase)
        if found is None or found.total_s is None:
            reason = (f"the drill has no {phase} phase" if found is None else
                      f"the {phase} phase never ended (the service did not come back)")
            findings.append(Finding("COULD_NOT_VERIFY", f"{title}: {reason}"))
            rows.append(TargetCheck(key, title, target, "n/a", "", Verdict.COULD_NOT_VERIFY,
                                    reason, limit))
            continue
        total = found.total_s
        measured = fmt_s(found.measured_s) + (f" + {fmt_s(found.stated_s)} stated (manual, "
                                              "not measured)" if found.stated_s else "")
        if total <= limit:
            rows.append(TargetCheck(key, title, target, measured, "", Verdict.PASS, "", limit,
                                    total))
            continue
        msg = f"the {phase} phase took {fmt_s(total)}, over its limit of {fmt_s(limit)}"
        findings.append(Finding("PHASE_EXCEEDED", msg))
        rows.append(TargetCheck(key, title, target, measured, "", Verdict.FAIL, msg, limit,
                                total))
    return rows


def check_rows(steps: Sequence[Step], findings: list[Finding]) -> list[TargetCheck]:
    """One row per check of the plan the drill ran after recovery."""
    rows: list[TargetCheck] = []
    for step in steps:
        if step.category != Category.CHECK or not step.data.get("plan_check"):
            continue
        verdict = Verdict(str(step.data.get("verdict", Verdict.COULD_NOT_VERIFY)))
        detail = str(step.data.get("detail", ""))
        kind = (step.data.get("check") or {}).get("kind")
        if kind == CheckKind.LEDGER.value and verdict == Verdict.PASS:
            continue  # journals of the first version 2 drills: the loss rows judge it
        if verdict == Verdict.FAIL:
            findings.append(Finding("CHECK_FAILED", f"{step.name}: {detail}"))
        elif verdict == Verdict.COULD_NOT_VERIFY:
            findings.append(Finding("COULD_NOT_VERIFY", f"{step.name}: {detail}"))
        value = step.data.get("value")
        rows.append(TargetCheck(f"check.{len(rows) + 1}", step.name.split(": ", 1)[-1],
                                "passes", detail, "", verdict,
                                "" if verdict == Verdict.PASS else detail, None,
                                float(value) if isinstance(value, int | float) else None))
    return rows
