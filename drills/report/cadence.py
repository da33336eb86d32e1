"""The plan's cadence (``drill_every``): whether this drill came on time after the last one.

The previous run of the same plan is found in the same reports directory (each run is a
directory with a summary.json); the figures are computed when the run ends and kept in
its summary, so ``drill report`` shows what was true then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drills.plan.spans import span


def previous_run(out_dir: Path, plan_name: str, before_wall: float,
                 this_run: str) -> tuple[str, float] | None:
    """The latest earlier run of the plan called ``plan_name``: (run id, its start in epoch s).

    Any run counts, whatever its verdict: a drill that failed was still a drill.
    """
    found: tuple[str, float] | None = None
    for summary in out_dir.glob("*/summary.json"):
        if summary.parent.name == this_run:
            continue
        try:
            data = json.loads(summary.read_text())
            name = (data.get("plan") or {}).get("name")
            started = float(data.get("started_wall"))
        except (OSError, ValueError, TypeError):
            continue  # not a run of ours, or unreadable: not evidence of a drill
        if name == plan_name and started < before_wall and (found is None or
                                                             started > found[1]):
            found = (str(data.get("run_id") or summary.parent.name), started)
    return found


def cadence(every_s: float | None, started_wall: float,
            previous: tuple[str, float] | None) -> dict[str, Any] | None:
    """What the report says about the plan's cadence; None when the plan sets none."""
    if every_s is None:
        return None
    out: dict[str, Any] = {"every_s": every_s, "previous_run": None, "gap_s": None,
                           "overdue": None}
    if previous is None:
        out["text"] = (f"the plan is drilled every {span(every_s)}; no earlier run of it in "
                       "this reports directory")
        return out
    gap = started_wall - previous[1]
    out.update(previous_run=previous[0], gap_s=gap, overdue=gap > every_s)
    verdict = "OVERDUE" if gap > every_s else "on time"
    out["text"] = (f"{verdict}: the previous drill of this plan ({previous[0]}) started "
                   f"{span(round(gap))} before this one; the plan says every {span(every_s)}")
    return out
