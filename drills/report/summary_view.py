"""The summary a stakeholder reads in a minute: one row per scenario.

Each row ends with the change since the previous drill of the same plan, from the trends
saved with the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.catalogue import CATALOGUE
from drills.measure.evaluate import DrillResult
from drills.measure.verdict import TargetCheck, Verdict, fmt_s
from drills.record.timeline import Category, Step
from drills.trends.store import Point


def drilled(scenario: Mapping[str, Any], steps: Sequence[Step]) -> str:
    """What was drilled, in a line: the plan's description, the built-in's, or its steps."""
    own = str(scenario.get("description") or "").strip()
    if own:
        return own
    builtin = CATALOGUE.get(str(scenario.get("builtin") or scenario.get("name") or ""))
    if builtin is not None:
        return builtin.summary
    done = [s.name for s in steps if s.category in (Category.FAULT, Category.RECOVERY,
                                                    Category.REVERT)]
    return " → ".join(done) or "n/a"


#: the longer of the figure and its target ends here (percent of the bar), so a bound's
#: open end and a target at the very end both stay visible
_SCALE_END = 80.0


@dataclass(frozen=True)
class Bar:
    """A measured figure drawn against its target, for the summary.

    ``fill`` and ``mark`` are percents of the bar's width; the scale is the bar's own, from 0
    to a little past the larger of the figure and the target. A lower bound (a censored
    window, an outage not over when watching ended) is drawn open-ended and said "≥ x"
    (docs/measurement.md rule 13: a bound is never shown as a value).
    """

    figure: str  # "0.636 s", "≥ 3.949 s", "n/a"
    fill: float
    mark: float | None  # where the target is; None: no target set
    bound: bool
    verdict: Verdict | None  # the target's verdict; None: no target


def bar(value: float | None, target: float | None, bound: bool = False,
        verdict: Verdict | None = None) -> Bar:
    """``value`` against ``target`` (seconds), on a scale of their own."""
    top = max(value or 0.0, target or 0.0)
    scale = top * 100.0 / _SCALE_END if top > 0 else 1.0
    fill = 0.0 if value is None else 100.0 * value / scale
    mark = None if target is None else 100.0 * target / scale
    figure = "n/a" if value is None else ("≥ " if bound else "") + fmt_s(value)
    return Bar(figure, round(fill, 1), None if mark is None else round(mark, 1), bound,
               verdict)


def _bar(checks: Sequence[TargetCheck], key: str, value: float | None,
         bound: bool) -> Bar:
    """The row's figure against its target; with no target, the figure as measured."""
    check = next((c for c in checks if c.key == key), None)
    if check is None:
        return bar(value, None, bound)
    if check.measured_value is not None:
        value = check.measured_value
    elif not bound:  # the row has no figure (it says why): no bar drawn either
        value = None
    return bar(value, check.target_value, bound, check.verdict)


def _row(checks: Sequence[TargetCheck], key: str,
         measured: float | None) -> tuple[str, str]:
    """The target and its measurement; with no target, the figure as measured, if any."""
    check = next((c for c in checks if c.key == key), None)
    if check is None:
        return "none set", fmt_s(measured)
    return check.target, check.measured


def _delta(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    diff = now - before
    if abs(diff) < 0.0005:
        return "±0"
    sign = "+" if diff > 0 else "-"
    share = f" ({diff / before:+.0%})" if before > 0 else ""
    return f"{sign}{fmt_s(abs(diff))}{share}"


def change(points: Sequence[Point]) -> str:
    """The run against the previous run of the scenario in its trend."""
    if len(points) < 2:
        return "first drill of this scenario in the runs database"
    now, before = points[-1], points[-2]
    parts = []
    for title, key in (("RTO", "rto_s"), ("RPO", "rpo_s")):
        delta = _delta(getattr(now, key), getattr(before, key))
        if delta is not None:
            parts.append(f"{title} {delta}")
    if before.verdict != now.verdict:
        parts.append(f"verdict was {before.verdict}")
    told = "; ".join(parts) or "no figure to compare"
    return f"{told} (vs {before.run_id})"


def summary_rows(results: Sequence[DrillResult], what: Sequence[str],
                 trends: Mapping[str, Sequence[Point]]) -> list[dict[str, Any]]:
    """One row per scenario; ``what`` says what each drilled (``drilled``)."""
    rows = []
    for result, text in zip(results, what, strict=True):
        rto_s = result.rto.seconds if result.rto else None
        rto_target, rto = _row(result.checks, "rto_s", rto_s)
        # watched and never answered again: the outage lasted at least the watch
        open_for = result.rto.observed_s if result.rto and rto_s is None else None
        rpo_target, rpo = _row(result.checks, "rpo_s",
                               result.rpo.window_s if result.rpo else None)
        judged = any(c.key.startswith("regression.") for c in result.checks)
        pending = "" if judged or not result.regression_note else \
            "; regression limits not judged yet (no earlier passing run)"
        w = result.writes
        rows.append({
            "scenario": result.scenario, "drilled": text,
            "rto_target": rto_target, "rto": rto, "rpo_target": rpo_target, "rpo": rpo,
            "rto_bar": _bar(result.checks, "rto_s", rto_s if open_for is None else open_for,
                            open_for is not None),
            "rpo_bar": _bar(result.checks, "rpo_s", result.rpo.window_s if result.rpo else None,
                            bool(result.rpo and result.rpo.censored)),
            "lost": "n/a" if w is None else f"{len(w.lost)} of {w.acked}",
            "verdict": result.verdict,
            "change": change(trends.get(result.scenario, ())) + pending,
        })
    return rows
