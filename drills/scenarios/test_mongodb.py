"""MongoDB drills: a crash under load, what the write concern kept, a silent delete.

mongodb-kill              w=1, j=true: a write is acknowledged once journaled; none may be lost.
mongodb-kill-no-journal   w=1, j=false: acknowledged before the journal is flushed; what the
                          kill takes is reported exactly (possibly nothing).
mongodb-silent-loss       documents deleted behind the workload's back: the checker must name
                          exactly those ids.

On the local runtime the server is FerretDB over PostgreSQL (drills/kinds/mongodb/local.py):
j maps to PostgreSQL's synchronous_commit, and the kill reaches both processes.
"""

import pytest

from drills import Drill, Kill, MongoSettings, Restart, Verdict
from drills.scenarios.test_silent_loss import run_silent_loss


def run_mongodb_kill(drill: Drill, settings: MongoSettings) -> None:
    mongodb = drill.stack(mongodb=settings)["mongodb"]
    with drill.load(mongodb):
        drill.warm_up()
        with drill.fault(Kill(mongodb)):
            drill.recover(Restart(mongodb))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("mongodb-kill")
def test_mongodb_kill(drill: Drill) -> None:
    run_mongodb_kill(drill, MongoSettings(w=1, j=True))
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("mongodb-kill-no-journal")
def test_mongodb_kill_no_journal(drill: Drill) -> None:
    run_mongodb_kill(drill, MongoSettings(w=1, j=False))
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("mongodb-silent-loss")
def test_mongodb_silent_loss(drill: Drill) -> None:
    run_silent_loss(drill, "mongodb", MongoSettings())
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
