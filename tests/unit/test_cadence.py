"""The plan's cadence: the previous run of the same plan in the reports directory."""

from __future__ import annotations

import json
from pathlib import Path

from drills.report.cadence import cadence, previous_run

DAY = 86400.0


def run(out: Path, run_id: str, plan: str, started: float) -> None:
    (out / run_id).mkdir(parents=True)
    (out / run_id / "summary.json").write_text(json.dumps(
        {"run_id": run_id, "plan": {"name": plan}, "started_wall": started}))


def test_the_latest_earlier_run_of_the_same_plan(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    run(tmp_path, "a", "shop", now - 200 * DAY)
    run(tmp_path, "b", "shop", now - 100 * DAY)
    run(tmp_path, "c", "other plan", now - 1 * DAY)
    run(tmp_path, "later", "shop", now + DAY)  # not before this one
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "summary.json").write_text("{not json")
    assert previous_run(tmp_path, "shop", now, "this") == ("b", now - 100 * DAY)
    assert previous_run(tmp_path, "nobody", now, "this") is None


def test_overdue_and_on_time() -> None:
    now = 1_800_000_000.0
    late = cadence(90 * DAY, now, ("b", now - 100 * DAY))
    assert late is not None and late["overdue"] is True
    assert late["text"].startswith("OVERDUE: the previous drill of this plan (b) started "
                                   "100 d before")
    on_time = cadence(90 * DAY, now, ("b", now - 30 * DAY))
    assert on_time is not None and on_time["overdue"] is False
    assert on_time["text"].startswith("on time")
    first = cadence(90 * DAY, now, None)
    assert first is not None and first["overdue"] is None and "no earlier run" in first["text"]
    assert cadence(None, now, None) is None
