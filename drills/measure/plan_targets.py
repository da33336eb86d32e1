"""What only a version 2 plan asks: manual steps in the RTO, phase limits, its checks.

- **Manual steps** (a person updates DNS) take no time in the drill; the plan states their
  duration. The RTO judged against the target is the measured RTO plus those stated
  durations, and both parts are shown, the second marked "stated, not measured".
- **Phase limits** (docs/measurement.md rule 5): detection is the fault until the drill saw the
  failure; decision and execution are the recovery steps the plan puts in each (measured,
  plus stated manual durations); verification is the end of the last recovery step until
  the first good probe.
- **Checks** after recovery (an HTTP answer, a SQL count): one verdict row each, as the
  drill recorded them; the write ledger check as the loss rows judged it; a check the drill
  never reached (a recovery step failed first) "could not verify", never left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.measure.findings import Finding
from drills.measure.rto import Rto
from drills.measure.verdict import TargetCheck, Verdict, fmt_s, overall
from drills.plan.scenario_spec import CheckKind
from drills.record.timeline import Category, Step

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
        manual = bool(detect.data.get("manual"))  # a person's, as the plan states it
        times["detection"] = PhaseTime(0.0 if manual else detect.end.mono - t_fault,
                                       float(detect.data.get("stated_s", 0.0)) if manual else 0.0)
    for phase in ("decision", "execution"):
        mine = [s for s in recovery if s.data.get("plan_phase") == phase]
        if not mine:
            continue  # no step in it: nothing measured, not 0 s (docs/measurement.md rule 13)
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
            reason = (f"no step of the drill is in the {phase} phase, so there is nothing to "
                      "measure against its limit (an empty phase is not 0 s); put a recovery "
                      f"step in it (`phase: {phase}`) or drop the limit" if found is None else
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


def check_rows(steps: Sequence[Step], findings: list[Finding],
               loss_rows: Sequence[TargetCheck] = (),
               planned: Sequence[Mapping[str, Any]] = (),
               stopped: str = "") -> list[TargetCheck]:
    """One row per check of the plan.

    As the drill recorded it after recovery; a ledger check as the loss rows judged it;
    one the drill never reached, "could not verify".
    """
    recorded: dict[int, Step] = {}
    for step in steps:
        if step.category == Category.CHECK and step.data.get("plan_check"):
            number = step.name.removeprefix("check ").split(":", 1)[0]
            recorded[int(number) if number.isdigit() else 1000 + len(recorded)] = step
    count = max(len(planned), max((n for n in recorded if n < 1000), default=0))
    rows: list[TargetCheck] = []
    for number in [*range(1, count + 1), *sorted(n for n in recorded if n >= 1000)]:
        spec = planned[number - 1] if number <= len(planned) else None
        found: Step | None = recorded.get(number)
        kind = (spec or (found.data.get("check") if found else None) or {}).get("kind")
        recorded_verdict = found.data.get("verdict") if found is not None else None
        if kind == CheckKind.LEDGER.value and recorded_verdict in (None, Verdict.PASS):
            rows.append(_ledger_row(f"check.{len(rows) + 1}", spec or {}, loss_rows))
        elif found is not None:
            rows.append(_recorded_row(f"check.{len(rows) + 1}", found, findings))
        elif spec is not None:
            title = _planned_title(spec)
            reason = "could not run: the drill stopped before its checks" + \
                (f" ({stopped})" if stopped else "")
            findings.append(Finding("COULD_NOT_VERIFY", f"{title}: {reason}"))
            rows.append(TargetCheck(f"check.{len(rows) + 1}", title, "passes", "not run", "",
                                    Verdict.COULD_NOT_VERIFY, reason))
    return rows


def _planned_title(spec: Mapping[str, Any]) -> str:
    where = spec.get("url") or spec.get("service") or "?"
    what = spec.get("query") or " ".join(spec.get("command") or ())
    return f"{spec.get('kind', 'check')} on {where}" + (f": `{what}`" if what else "")


def _ledger_row(key: str, spec: Mapping[str, Any],
                loss_rows: Sequence[TargetCheck]) -> TargetCheck:
    """The plan's ``{ledger: SVC}`` check: the loss rows and the integrity row together."""
    title = f"the write ledger in {spec.get('service') or 'the store'}: every acknowledged " \
        "write is there"
    verdict = overall(loss_rows) if loss_rows else Verdict.COULD_NOT_VERIFY
    judged = "; ".join(f"{r.title}: {r.verdict}" for r in loss_rows) or "no loss rows"
    reason = "" if verdict == Verdict.PASS else \
        "; ".join(r.reason for r in loss_rows if r.verdict != Verdict.PASS)
    return TargetCheck(key, title, "as the loss rows judge", judged, "", verdict, reason)


def _recorded_row(key: str, step: Step, findings: list[Finding]) -> TargetCheck:
    verdict = Verdict(str(step.data.get("verdict", Verdict.COULD_NOT_VERIFY)))
    detail = str(step.data.get("detail", ""))
    if verdict == Verdict.FAIL:
        findings.append(Finding("CHECK_FAILED", f"{step.name}: {detail}"))
    elif verdict == Verdict.COULD_NOT_VERIFY:
        findings.append(Finding("COULD_NOT_VERIFY", f"{step.name}: {detail}"))
    value = step.data.get("value")
    return TargetCheck(key, step.name.split(": ", 1)[-1], "passes", detail, "", verdict,
                       "" if verdict == Verdict.PASS else detail, None,
                       float(value) if isinstance(value, int | float) else None)
