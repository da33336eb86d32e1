"""The machine-readable run summary: summary.json, one entry per scenario."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from drills.measure.evaluate import DrillResult
from drills.measure.verdict import Verdict, overall

SCHEMA = 2  # 2: scenarios name the probed service and the store apart


def iso_utc(epoch: float | None) -> str | None:
    """Wall-clock seconds as ISO 8601 in UTC, to the millisecond."""
    if epoch is None:
        return None
    stamp = datetime.fromtimestamp(float(epoch), tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def run_verdict(results: Sequence[DrillResult]) -> Verdict:
    """Fail beats could-not-verify beats pass, over every target of every scenario."""
    return overall(check for r in results for check in r.checks)


def exit_code(results: Sequence[DrillResult]) -> int:
    """0 only when every scenario passed; no scenario at all is not a pass."""
    return 0 if results and all(r.verdict == Verdict.PASS for r in results) else 1


def build_summary(results: Sequence[DrillResult], meta: Mapping[str, Any]) -> dict[str, Any]:
    """The summary.json document."""
    return {
        "schema": SCHEMA,
        "run_id": meta.get("run_id"),
        "runtime": meta.get("runtime"),  # as the scenarios ran: auto resolved
        "runtime_requested": meta.get("runtime_requested", meta.get("runtime")),
        "plan": dict(meta.get("plan") or {}),
        "started_at": iso_utc(meta.get("started_wall")),
        "finished_at": iso_utc(meta.get("finished_wall")),
        # Epoch seconds too, so `drill report` can rebuild this file from the journals.
        "started_wall": meta.get("started_wall"),
        "finished_wall": meta.get("finished_wall"),
        "command": meta.get("command"),
        "operator": meta.get("operator"),
        "signed": bool(meta.get("signed")),
        "verdict": str(run_verdict(results)),
        "exit_code": exit_code(results),
        "scenarios": [r.to_dict() for r in results],
    }
