"""Redis crash drills: SIGKILL under load, restart from what was persisted.

redis-kill       AOF with appendfsync everysec: the AOF is replayed; nothing acknowledged is lost
                 (SIGKILL leaves the page cache intact; a power cut could lose up to 1 s).
redis-kill-rdb   RDB snapshots only: every write since the last snapshot is lost and reported.
"""

import pytest

from drills import Drill, Kill, RedisSettings, Restart, Verdict


def run_redis_kill(drill: Drill, settings: RedisSettings) -> None:
    redis = drill.stack(redis=settings)["redis"]
    kill = Kill(redis)
    with drill.load(redis):
        drill.warm_up()
        with drill.fault(kill):
            drill.recover(Restart(redis))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("redis-kill")
def test_redis_kill(drill: Drill) -> None:
    run_redis_kill(drill, RedisSettings(appendonly=True, appendfsync="everysec"))
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("redis-kill-rdb")
def test_redis_kill_rdb(drill: Drill) -> None:
    every = int(drill.scenario.params["snapshot_every_s"])
    run_redis_kill(drill, RedisSettings(appendonly=False, save=f"{every} 1"))
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
