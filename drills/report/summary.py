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


def missing(results: Sequence[DrillResult], meta: Mapping[str, Any]) -> list[str]:
    """The scenarios the run set out to drill (``meta["planned"]``) that gave no result."""
    done = {r.scenario for r in results}
    return [name for name in meta.get("planned") or () if name not in done]


def complete(results: Sequence[DrillResult], meta: Mapping[str, Any]) -> bool:
    """Whether every planned scenario gave a result and nothing interrupted the run."""
    return not missing(results, meta) and not meta.get("interrupted")


def run_verdict(results: Sequence[DrillResult], meta: Mapping[str, Any]) -> Verdict:
    """Fail beats could-not-verify beats pass, over every target of every scenario.

    A run that was interrupted, or that left a planned scenario without a result, proves
    less than it set out to: at best it could not verify.
    """
    verdict = overall(check for r in results for check in r.checks)
    if verdict == Verdict.PASS and not complete(results, meta):
        return Verdict.COULD_NOT_VERIFY
    return verdict


def exit_code(results: Sequence[DrillResult], meta: Mapping[str, Any]) -> int:
    """0 only when every planned scenario passed; no scenario at all is not a pass."""
    passed = results and all(r.verdict == Verdict.PASS for r in results)
    return 0 if passed and complete(results, meta) else 1


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
        "verdict": str(run_verdict(results, meta)),
        "exit_code": exit_code(results, meta),
        # what the run set out to drill, so that a partial run never reads as a pass
        "planned": list(meta.get("planned") or [r.scenario for r in results]),
        "interrupted": bool(meta.get("interrupted")),
        "missing": missing(results, meta),
        "scenarios": [r.to_dict() for r in results],
    }
