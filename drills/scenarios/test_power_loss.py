"""Power loss: the data directory on LazyFS, every process killed, un-fsynced writes dropped.

A SIGKILL leaves the kernel's page cache intact; a power cut does not. These drills put the
server's data directory on LazyFS (drills.stack.storage.lazyfs), so that the fault forgets what
was never fsynced, as a machine losing power would (drills.faults.storage.PowerLoss).
Local runtime: LazyFS is a FUSE file system of the host.

postgres-power-loss                 fsync and synchronous_commit on: a calibration of the
                                    fault itself, 0 acknowledged writes may be lost
postgres-power-loss-async-commit    synchronous_commit off: the newest commits are lost,
                                    within the WAL writer's flush interval
postgres-power-loss-fsync-off       negative control: with fsync off the cut must do damage
                                    (lost writes or a server that does not start again)
redis-power-loss-always             AOF appendfsync always: 0 lost
redis-power-loss-everysec           AOF appendfsync everysec: up to about a second lost
"""

import pytest

from drills import Drill, PostgresSettings, RedisSettings, Restart, Verdict
from drills.errors import DrillError
from drills.faults.storage import DiskFull, PowerLoss
from drills.recovery.storage import FreeDisk
from drills.stack.service import Service


def run_power_loss(drill: Drill, service: Service) -> None:
    with drill.load(service):
        drill.warm_up()
        with drill.fault(PowerLoss(service)):
            drill.recover(Restart(service))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("postgres-power-loss")
def test_postgres_power_loss(drill: Drill) -> None:
    pg = drill.stack(postgres=PostgresSettings(storage="lazyfs"))["postgres"]
    run_power_loss(drill, pg)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("postgres-power-loss-async-commit")
def test_postgres_power_loss_async_commit(drill: Drill) -> None:
    delay_ms = int(drill.scenario.params["wal_writer_delay_ms"])
    pg = drill.stack(postgres=PostgresSettings(
        storage="lazyfs", synchronous_commit=False,
        extra={"wal_writer_delay": f"{delay_ms}ms"}))["postgres"]
    run_power_loss(drill, pg)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("postgres-power-loss-fsync-off")
def test_postgres_power_loss_fsync_off(drill: Drill) -> None:
    pg = drill.stack(postgres=PostgresSettings(storage="lazyfs", fsync=False))["postgres"]
    drill.expect_damage()
    try:
        run_power_loss(drill, pg)
    except DrillError:
        # a server that does not start again: the damage, read from the journal's failed
        # recovery step; any other failure leaves no such step and cannot pass
        pass
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("redis-power-loss-always")
def test_redis_power_loss_always(drill: Drill) -> None:
    redis = drill.stack(redis=RedisSettings(storage="lazyfs", appendfsync="always"))["redis"]
    run_power_loss(drill, redis)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("redis-power-loss-everysec")
def test_redis_power_loss_everysec(drill: Drill) -> None:
    redis = drill.stack(redis=RedisSettings(storage="lazyfs", appendfsync="everysec"))["redis"]
    run_power_loss(drill, redis)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


def run_disk_full(drill: Drill, service: Service) -> None:
    with drill.load(service):
        drill.warm_up()
        with drill.fault(DiskFull(service)):
            drill.detect()  # the full disk shows: the probe fails (PANIC, MISCONF)
            drill.recover(FreeDisk(service))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("postgres-disk-full-wal")
def test_postgres_disk_full_wal(drill: Drill) -> None:
    size = int(drill.scenario.params["disk_mb"]) * 1024 * 1024
    pg = drill.stack(postgres=PostgresSettings(
        # no recycled segments: the next segment needs new space, as when WAL piles up
        # behind a failing archive or a slow checkpoint
        wal_disk_bytes=size, extra={"max_wal_size": "32MB", "min_wal_size": "8MB",
                                    "wal_recycle": "off"}))["postgres"]
    run_disk_full(drill, pg)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("redis-disk-full-aof")
def test_redis_disk_full_aof(drill: Drill) -> None:
    size = int(drill.scenario.params["disk_mb"]) * 1024 * 1024
    redis = drill.stack(redis=RedisSettings(disk_bytes=size))["redis"]
    run_disk_full(drill, redis)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
