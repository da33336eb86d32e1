"""The report's view of backups and restores: plain strings for the template.

What an auditor asks of a restore drill: which backup, taken when, how big, checked by
what; what its consistency point was; what the restore lost by design and whether it
lost anything it should not have; how fast it went; and, kept apart and labelled, what
the figures imply on the real schedule.
"""

from __future__ import annotations

from typing import Any

from drills.measure.evaluate import DrillResult
from drills.measure.verdict import fmt_s


def _mb(value: Any) -> str:
    return "n/a" if value is None else f"{float(value) / 1e6:.1f} MB"


def _rate(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:,.1f} {unit}"


def backups_view(result: DrillResult) -> list[dict[str, str]]:
    """One row per backup taken, relative to the fault."""
    origin = result.t_fault_mono
    rows = []
    for b in result.backups:
        point = b.consistency
        earliest, latest = point.get("earliest_mono"), point.get("latest_mono")
        if earliest is not None and origin is not None:
            when = f"{float(earliest) - origin:+.3f} s"
            bracket = f" (bracket {(float(latest or earliest) - float(earliest)) * 1000:.1f} ms)"
        else:
            when, bracket = "n/a", ""
        facts = {k: point[k] for k in ("lsn", "snapshot", "start_lsn", "end_lsn") if k in point}
        facts.update({k: b.facts[k] for k in ("start_lsn", "end_lsn", "keys_at_save")
                      if k in b.facts})
        verified = "not verified" if b.verified is None else ("yes" if b.verified else "NO")
        rows.append({
            "name": b.name, "method": b.method, "service": b.service,
            "point": f"{point.get('what', 'n/a')}: {when} from the fault{bracket}",
            "facts": ", ".join(f"{k} {v}" for k, v in facts.items()),
            "duration": fmt_s(b.facts.get("duration_s")), "size": _mb(b.facts.get("size_bytes")),
            "sha256": str(b.facts.get("sha256", "n/a")),
            "verified": verified, "tool": b.tool or "n/a", "detail": b.detail or "",
        })
    return rows


def restore_view(result: DrillResult) -> dict[str, Any] | None:
    """The restore's effect on the acknowledged writes, its speed, and the projection."""
    r = result.restore
    if r is None:
        return None
    view: dict[str, Any] = {
        "backup": r.backup, "method": r.method, "point": r.consistency_what,
        "missing": len(r.missing_before_point),
        "missing_ids": r.missing_before_point.ranges_text(20),
        "lost_after": r.lost_after_point, "window": fmt_s(r.window_s),
        "restore_time": fmt_s(r.restore_s), "restored": _mb(r.restored_bytes),
        "rows": "n/a" if r.restored_rows is None else f"{r.restored_rows:,}",
        "mb_per_s": _rate(r.mb_per_s, "MB/s"), "rows_per_s": _rate(r.rows_per_s, "rows/s"),
        "pitr": None, "archive": None, "projection": None,
    }
    if r.pitr is not None:
        p = r.pitr
        view["pitr"] = {
            "xid": p.target_xid if p.target_xid is not None else "n/a",
            "after": len(p.present_after_target),
            "distance": "n/a" if p.distance_s is None else f"{p.distance_s * 1000:.1f} ms",
        }
    newest = r.archive.get("newest_archived_wall")
    if newest is not None and result.t_fault_wall is not None:
        timeout = (result.environment.get("services", {}).get(result.store_service or "", {})
                   .get("settings", {}).get("archive_timeout"))
        view["archive"] = {
            "segment": r.archive.get("newest_archived_segment"),
            "before_fault": f"{result.t_fault_wall - float(newest):.3f} s",
            "timeout": f"{timeout} s" if timeout else "n/a",
            "segments": r.archive.get("archived_segments"),
        }
    pr = result.projection
    if pr is not None:
        view["projection"] = {
            "every": fmt_s(pr.backup_every_s), "measured_rpo": fmt_s(pr.measured_rpo_s),
            "worst_rpo": fmt_s(pr.worst_case_rpo_s), "basis": pr.rpo_basis,
            "production": _mb(pr.production_bytes), "restore": fmt_s(pr.projected_restore_s),
        }
    return view
