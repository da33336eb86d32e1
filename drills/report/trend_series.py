"""The trend of each scenario as a run saw it: earlier runs from the store, plus this run.

Saved as ``trends.json`` in the run directory when the run ends, so the report's trend
charts and its "change since the previous drill" column are rebuilt from the run's own
files, not from a database that has moved on since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from drills.errors import HistoryError
from drills.measure.evaluate import DrillResult
from drills.record.journal import read_json, write_json
from drills.trends.store import Point, RunStore

FILE_NAME = "trends.json"
#: how many runs a trend chart shows, this one included
SHOWN_RUNS = 20


def _target(result: DrillResult, key: str) -> float | None:
    return next((c.target_value for c in result.checks if c.key == key), None)


def this_run(result: DrillResult, started_wall: float) -> Point:
    """The point a scenario of the run being written adds to its trend."""
    return Point(result.run_id, started_wall, result.runtime, str(result.verdict),
                 result.rto.seconds if result.rto else None,
                 result.rpo.window_s if result.rpo else None,
                 len(result.writes.lost) if result.writes else None,
                 _target(result, "rto_s"), _target(result, "rpo_s"))


def gather(store: RunStore, plan_name: str, results: Sequence[DrillResult],
           started_wall: float) -> dict[str, Any]:
    """Each scenario's earlier runs of this plan on the same runtime, then this one."""
    scenarios = {}
    for r in results:
        earlier = store.series(plan_name, r.scenario, runtime=r.runtime,
                               before_wall=started_wall, limit=SHOWN_RUNS - 1)
        scenarios[r.scenario] = [p.to_dict() for p in [*earlier, this_run(r, started_wall)]]
    return {"store": str(store.path), "plan": plan_name, "scenarios": scenarios}


def save_trends(run_dir: Path, trends: Mapping[str, Any]) -> None:
    write_json(run_dir / FILE_NAME, dict(trends))


def load_trends(run_dir: Path) -> dict[str, list[Point]]:
    """Each scenario's trend as saved with the run; empty for runs from before trends."""
    path = run_dir / FILE_NAME
    if not path.exists():
        return {}
    raw = read_json(path)
    try:
        return {str(name): [Point.from_dict(p) for p in points]
                for name, points in raw["scenarios"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HistoryError(f"{path}: malformed trends ({exc})") from exc
