"""silent-loss: delete acknowledged rows behind the workload's back.

This calibrates the checker: it must report exactly the deleted ids as lost, and the
window they span, while the service itself never goes down.
"""

from typing import Any

import pytest

from drills import Drill, PostgresSettings, SilentDelete, Verdict
from drills.kinds.base import ServiceSettings


def run_silent_loss(drill: Drill, name: str, settings: ServiceSettings) -> None:
    """The silent delete on one data store (also mongodb-silent-loss, drills/scenarios)."""
    wanted: dict[str, Any] = {name: settings}
    store = drill.stack(**wanted)[name]
    delete = SilentDelete(store, drill.files, int(drill.scenario.params["delete_count"]))
    with drill.load(store):
        drill.warm_up()
        with drill.fault(delete):
            pass
        drill.calibrate_loss(delete.deleted)
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("silent-loss")
def test_silent_loss(drill: Drill) -> None:
    run_silent_loss(drill, "postgres", PostgresSettings())
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
