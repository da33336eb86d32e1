"""PostgreSQL crash drills: SIGKILL under load, supervised restart.

postgres-kill                 synchronous_commit on: no acknowledged write may be lost.
postgres-kill-async-commit    synchronous_commit off: commits still in WAL buffers are lost;
                              the drill must report exactly how many.
"""

import pytest

from drills import Drill, Kill, PostgresSettings, Restart, Verdict


def run_postgres_kill(drill: Drill, synchronous_commit: bool) -> None:
    pg = drill.stack(postgres=PostgresSettings(synchronous_commit=synchronous_commit))["postgres"]
    kill = Kill(pg)
    with drill.load(pg):
        drill.warm_up()
        with drill.fault(kill):
            drill.recover(Restart(pg))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("postgres-kill")
def test_postgres_kill(drill: Drill) -> None:
    run_postgres_kill(drill, synchronous_commit=True)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("postgres-kill-async-commit")
def test_postgres_kill_async_commit(drill: Drill) -> None:
    run_postgres_kill(drill, synchronous_commit=False)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
