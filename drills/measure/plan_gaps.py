"""The plan itself, judged in the drill's verdict: targets it cannot hold on its real schedule.

In compressed time every measured RPO is a few seconds; a daily dump cannot promise an RPO
of 6 hours however fast the drill's restore was. ``drill check`` finds such gaps
(drills.plan.contradictions); the drill records each on its timeline when it starts, and
each is a row of its verdict, "projection, not measured", that fails, so that ``drill run``
exits non-zero where ``drill check`` did. A gap the plan accepts (``accept:`` with a reason,
who signed it off, and the last day it holds) passes, saying so, until that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from drills.measure.findings import Finding
from drills.measure.verdict import TargetCheck, Verdict
from drills.record.timeline import Event, EventKind

RESOLUTION = "projection, not measured"


def gap_rows(events: Sequence[Event], findings: list[Finding]) -> list[TargetCheck]:
    rows = []
    for event in events:
        if event.kind != EventKind.PLAN_GAP:
            continue
        target = str(event.data.get("target"))
        key, title = f"plan.{target}", f"the plan on its real schedule: {target}"
        shown = "the plan's schedule can hold the target"
        message = str(event.data.get("message", ""))
        accepted = event.data.get("accepted")
        day = dt.datetime.fromtimestamp(event.at.wall, dt.UTC).date()
        if accepted:
            until = dt.date.fromisoformat(str(accepted["until"]))
            said = (f"accepted by {accepted['by']} until {accepted['until']}: "
                    f"{accepted['reason']}")
            if day <= until:
                rows.append(TargetCheck(key, title, shown, f"{message}; {said}", RESOLUTION,
                                        Verdict.PASS, ""))
                continue
            reason = f"{message}; the acceptance expired on {accepted['until']} ({said})"
        else:
            reason = (f"{message}; accept it explicitly (accept: target {target}, reason, by, "
                      "until) or change the plan")
        findings.append(Finding("PLAN_MISSES_TARGET", reason))
        rows.append(TargetCheck(key, title, shown, message, RESOLUTION, Verdict.FAIL, reason))
    return rows
