"""The report's view of a failover drill: roles, lag at the fault, two primaries.

What an SRE asks after a failover: which server was primary before and after, how far
the replica trailed when the primary went (the lag that explains the loss), when the
promotion took effect, and, in a split brain, how long two primaries accepted writes and
how many writes only the demoted one acknowledged.
"""

from __future__ import annotations

from typing import Any

from drills.measure.evaluate import DrillResult
from drills.measure.verdict import fmt_s


def _bytes(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{int(value):,} bytes"


def replication_view(result: DrillResult) -> dict[str, Any] | None:
    """Plain strings for the template; None when the drill sampled no replication."""
    rep = result.replication
    if rep is None:
        return None
    origin = result.t_fault_mono
    members = []
    for lag in rep.at_fault:
        members.append({
            "service": lag.service,
            "before": rep.roles_before.get(lag.service, "n/a")
            + (", NOT streaming" if lag.streaming is False else ""),
            "after": rep.roles_after.get(lag.service, "n/a"),
            "lag_bytes": _bytes(lag.lag_bytes) if lag.role == "replica" else "",
            "lag_s": (fmt_s(lag.lag_s) if lag.lag_s is not None else "n/a")
            if lag.role == "replica" else "",
            "sampled": "n/a" if lag.sampled_before_fault_s is None
            else f"{lag.sampled_before_fault_s * 1000:.0f} ms before the fault",
        })
    view: dict[str, Any] = {
        "members": members, "samples": rep.samples, "problems": list(rep.problems),
        "promoted": rep.promoted or "none",
        "promoted_at": "n/a" if rep.promoted_mono is None or origin is None
        else f"{rep.promoted_mono - origin:+.3f} s after the fault",
    }
    split = rep.split_brain
    if split is not None:
        view["split"] = {
            "demoted": split.demoted,
            "two_primaries": "n/a (never fenced)" if split.two_primaries_s is None
            else fmt_s(split.two_primaries_s),
            "demoted_lost": split.demoted_lost, "isolated_lost": split.isolated_lost,
            "unreplicated_lost": split.unreplicated_lost,
            "ids": ", ".join(str(i) for i in split.demoted_lost_ids) or "none",
            "rows": split.demoted_rows,
        }
    return view
