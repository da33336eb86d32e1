"""Regression limits: a figure judged against the median of the scenario's own recent past.

When a scenario starts, its baseline (the last passing runs of the same plan and
scenario, on the same runtime, from the run store) is saved as ``baseline.json`` beside
its journal. The verdict is computed from that file (drills.measure.regression), so ``drill report``
and ``drill verify`` judge exactly as the run did, whatever runs were added to the store
since.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.errors import HistoryError
from drills.record.journal import read_json, write_json
from drills.trends.store import Point, RunStore

FILE_NAME = "baseline.json"


@dataclass(frozen=True)
class Baseline:
    """The passing runs a scenario is compared with, as found when it started."""

    store: str  # the runs database it was read from
    runtime: str
    runs: tuple[Point, ...]
    settings: str = ""  # this run's settings digest (store.settings_digest)

    def median(self, key: str) -> float | None:
        values = [getattr(p, key) for p in self.runs if getattr(p, key) is not None]
        return statistics.median(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "runtime": self.runtime, "settings": self.settings,
                "runs": [p.to_dict() for p in self.runs]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Baseline:
        return cls(str(raw["store"]), str(raw["runtime"]),
                   tuple(Point.from_dict(p) for p in raw["runs"]), str(raw.get("settings", "")))


def take_baseline(store: RunStore, plan_name: str, scenario: str, runtime: str, runs: int,
                  before_wall: float, settings: str) -> Baseline:
    """The scenario's last ``runs`` passing runs of this plan on this runtime.

    ``settings`` is this run's settings digest: the note says when earlier runs were
    drilled otherwise (a longer freeze is a slowdown the limit must catch, so they count).
    """
    found = store.series(plan_name, scenario, runtime=runtime, passing_only=True,
                         before_wall=before_wall, limit=runs)
    return Baseline(str(store.path), runtime, tuple(found), settings)


def save_baseline(scenario_dir: Path, baseline: Baseline) -> None:
    scenario_dir.mkdir(parents=True, exist_ok=True)
    write_json(scenario_dir / FILE_NAME, baseline.to_dict())


def load_baseline(scenario_dir: Path) -> Baseline | None:
    """The saved baseline, or None when the scenario took none."""
    path = scenario_dir / FILE_NAME
    if not path.exists():
        return None
    try:
        return Baseline.from_dict(read_json(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise HistoryError(f"{path}: malformed baseline ({exc})") from exc
