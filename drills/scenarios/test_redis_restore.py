"""Redis restores under load: FLUSHALL by accident, or the data volume lost.

redis-flushall-rdb      AOF on; an RDB backup (BGSAVE, copied out of the data) gap_s before
                        an accidental FLUSHALL. Restore the RDB (first start with AOF off),
                        then turn AOF back on. Writes after the backup are lost by design.
redis-flushall-aof      the same accident, recovered without a backup: stop before any AOF
                        rewrite, cut the FLUSHALL from the AOF's tail, start. Loses nothing.
                        The report shows the two methods' RPO side by side.
redis-restore-volume    AOF on; an RDB backup; then the server and its data volume are lost.
                        Restore the RDB into a new server, then turn AOF back on.
redis-restore-aof       AOF on; a copy of the AOF directory (writes paused while it is
                        copied); then the server and its data volume are lost. Put the copy in
                        place and start: the AOF is replayed.
"""

import pytest

from drills import Drill, LoseData, RedisSettings, Verdict
from drills.kinds.redis.accident import FlushAll
from drills.kinds.redis.backup import AofCopy, RdbSnapshot
from drills.kinds.redis.restore import EnableAof, RemoveFlushall, RestoreAof, RestoreRdb


def run_flushall_rdb(drill: Drill) -> None:
    redis = drill.stack(redis=RedisSettings(appendonly=True))["redis"]
    rdb, accident = RdbSnapshot(redis), FlushAll(redis)
    with drill.load(redis):
        drill.warm_up()
        backup = drill.backup(rdb)
        drill.wait(float(drill.scenario.params["gap_s"]), "after the backup")
        with drill.fault(accident):
            pass
        drill.detect()
        drill.recover(RestoreRdb(redis, backup, aof=True))
        drill.recover(EnableAof(redis))
        drill.wait_for_service()
        drill.hold()


def run_flushall_aof(drill: Drill) -> None:
    redis = drill.stack(redis=RedisSettings(appendonly=True))["redis"]
    accident, fix = FlushAll(redis), RemoveFlushall(redis)
    with drill.load(redis):
        drill.warm_up()
        drill.wait(float(drill.scenario.params["gap_s"]), "before the accident")
        with drill.fault(accident):
            pass
        drill.detect()
        drill.recover(fix)
        drill.wait_for_service()
        drill.hold()


def run_restore_volume(drill: Drill) -> None:
    redis = drill.stack(redis=RedisSettings(appendonly=True))["redis"]
    rdb, loss = RdbSnapshot(redis), LoseData(redis)
    with drill.load(redis):
        drill.warm_up()
        backup = drill.backup(rdb)
        drill.wait(float(drill.scenario.params["gap_s"]), "after the backup")
        with drill.fault(loss):
            pass
        drill.detect()
        drill.recover(RestoreRdb(redis, backup, aof=True))
        drill.recover(EnableAof(redis))
        drill.wait_for_service()
        drill.hold()


def run_restore_aof(drill: Drill) -> None:
    redis = drill.stack(redis=RedisSettings(appendonly=True))["redis"]
    copy, loss = AofCopy(redis), LoseData(redis)
    with drill.load(redis):
        drill.warm_up()
        backup = drill.backup(copy)
        drill.wait(float(drill.scenario.params["gap_s"]), "after the backup")
        with drill.fault(loss):
            pass
        drill.detect()
        drill.recover(RestoreAof(redis, backup))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("redis-flushall-rdb")
def test_redis_flushall_rdb(drill: Drill) -> None:
    run_flushall_rdb(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("redis-flushall-aof")
def test_redis_flushall_aof(drill: Drill) -> None:
    run_flushall_aof(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("redis-restore-volume")
def test_redis_restore_volume(drill: Drill) -> None:
    run_restore_volume(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("redis-restore-aof")
def test_redis_restore_aof(drill: Drill) -> None:
    run_restore_aof(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
