"""The summary a stakeholder reads in a minute: one row per scenario.

Each row ends with the change since the previous drill of the same plan, from the trends
saved with the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drills.catalogue import CATALOGUE
from drills.measure.evaluate import DrillResult
from drills.measure.verdict import TargetCheck, fmt_s
from drills.timeline import Category, Step
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
        rto_target, rto = _row(result.checks, "rto_s",
                               result.rto.seconds if result.rto else None)
        rpo_target, rpo = _row(result.checks, "rpo_s",
                               result.rpo.window_s if result.rpo else None)
        judged = any(c.key.startswith("regression.") for c in result.checks)
        pending = "" if judged or not result.regression_note else \
            "; regression limits not judged yet (no earlier passing run)"
        w = result.writes
        rows.append({
            "scenario": result.scenario, "drilled": text,
            "rto_target": rto_target, "rto": rto, "rpo_target": rpo_target, "rpo": rpo,
            "lost": "n/a" if w is None else f"{len(w.lost)} of {w.acked}",
            "verdict": result.verdict,
            "change": change(trends.get(result.scenario, ())) + pending,
        })
    return rows
