"""Controls: for each audit control the plan names, the drills of this run that evidence it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drills.measure.evaluate import DrillResult
from drills.measure.verdict import Verdict, overall


def controls_view(results: Sequence[DrillResult], when: Sequence[str]) -> list[dict[str, Any]]:
    """One entry per control id, in the order the plan first names them."""
    found: dict[str, list[tuple[DrillResult, str]]] = {}
    for result, at in zip(results, when, strict=True):
        for control in result.controls:
            found.setdefault(control, []).append((result, at))
    out = []
    for control, drills in found.items():
        verdict = overall(c for r, _ in drills for c in r.checks)
        out.append({
            "control": control,
            "verdict": verdict,
            "evidenced": verdict == Verdict.PASS,
            "drills": [{"scenario": r.scenario, "at": at, "verdict": r.verdict,
                        "targets": ", ".join(f"{c.title} {c.target}" for c in r.checks
                                             if c.target not in ("", "n/a"))}
                       for r, at in drills],
        })
    return out
