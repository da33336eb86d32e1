"""silent-loss: delete acknowledged rows behind the workload's back.

This calibrates the checker: it must report exactly the deleted ids as lost, and the
window they span, while the service itself never goes down.
"""

import pytest

from drills import Drill, PostgresSettings, SilentDelete, Verdict


def run_silent_loss(drill: Drill) -> None:
    pg = drill.stack(postgres=PostgresSettings())["postgres"]
    delete = SilentDelete(pg, drill.files, int(drill.scenario.params["delete_count"]))
    with drill.load(pg):
        drill.warm_up()
        with drill.fault(delete):
            pass
        drill.calibrate_loss(delete.deleted)
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("silent-loss")
def test_silent_loss(drill: Drill) -> None:
    run_silent_loss(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
