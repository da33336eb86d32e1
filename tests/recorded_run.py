"""A run of many scenarios built from the drills recorded in fixtures/recorded.

For tests of the report's layout at the size of the default plan (37 scenarios): the
recorded drills are real ones (their charts, runbooks, long facts and ids), each copied
under a new name as often as needed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from drills.measure.evaluate import DrillResult, evaluate
from drills.record.journal import ScenarioFiles

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
#: as many scenarios as the default plan drills
DEFAULT_PLAN_SCENARIOS = 37


def recorded_run(run_dir: Path, count: int = DEFAULT_PLAN_SCENARIOS) -> list[DrillResult]:
    """``count`` scenarios in ``run_dir``, copies of the recorded drills, evaluated."""
    sources = sorted(p for p in RECORDED.iterdir() if (p / "journal.json").is_file())
    results = []
    for i in range(count):
        source = sources[i % len(sources)]
        copy = i // len(sources)
        name = f"{source.name}-{copy + 1}" if copy else source.name
        target = run_dir / name
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("expected.json"))
        journal = json.loads((target / "journal.json").read_text(encoding="utf-8"))
        journal["scenario"]["name"] = name
        (target / "journal.json").write_text(json.dumps(journal), encoding="utf-8")
        results.append(evaluate(ScenarioFiles(target)))
    return results
