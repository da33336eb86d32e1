"""PostgreSQL restores under load: the server lost, or a table dropped by accident.

postgres-restore-dump   pg_dump -Fc under load, verified; gap_s later the server and its
                        data are lost. Detect, provision a new empty server, pg_restore -j N
                        beside the clients' database, reopen. Everything acknowledged after
                        the dump's snapshot is lost by design: that is the measured RPO. Also
                        a calibration: RPO must equal fault - snapshot, and the lost writes
                        must be exactly those made after it.
postgres-restore-wal    WAL archived every archive_timeout_s; pg_basebackup under load,
                        verified; the server and its data lost. Restore the base backup,
                        replay the archive to its end, promote. Writes not yet archived are
                        the measured RPO.
postgres-restore-corrupt  the same archive and base backup; then the server crashes with a
                        damaged page in the workload table's file and restarts. New writes
                        work; reading old rows fails its checksum. Detect it by reading,
                        archive the current WAL, restore the base backup, replay to the end.
postgres-pitr-drop      the same archive and base backup; then DROP TABLE by accident. Find
                        the accident's transaction in the archived WAL with pg_waldump, as an
                        operator would; recover to just before it and promote. No write
                        acknowledged before the accident may be lost.
"""

import pytest

from drills import Drill, LoseData, PostgresSettings, Provision, Verdict
from drills.kinds.postgres.accident import Accident, CorruptPage
from drills.kinds.postgres.backup import BaseBackup, PgDump
from drills.kinds.postgres.restore import (
    ArchiveWal,
    FindAccident,
    Reopen,
    ReplayWal,
    RestoreBaseBackup,
    RestoreDump,
)


def run_restore_dump(drill: Drill) -> None:
    params = drill.scenario.params
    pg = drill.stack(postgres=PostgresSettings())["postgres"]
    dump, loss = PgDump(pg), LoseData(pg)
    with drill.load(pg):
        drill.warm_up()
        backup = drill.backup(dump)
        drill.wait(float(params["gap_s"]), "after the backup")
        with drill.fault(loss):
            pass
        drill.detect()
        drill.recover(Provision(pg))
        drill.recover(RestoreDump(pg, backup, jobs=int(params["jobs"])))
        drill.recover(Reopen(pg))
        drill.calibrate_backup()
        drill.wait_for_service()
        drill.hold()


def run_restore_wal(drill: Drill) -> None:
    params = drill.scenario.params
    settings = PostgresSettings(archive=True, archive_timeout_s=int(params["archive_timeout_s"]))
    pg = drill.stack(postgres=settings)["postgres"]
    base, loss = BaseBackup(pg), LoseData(pg)
    with drill.load(pg):
        drill.warm_up()
        backup = drill.backup(base)
        drill.wait(float(params["gap_s"]), "after the backup")
        with drill.fault(loss):
            pass
        drill.detect()
        drill.recover(RestoreBaseBackup(pg, backup))
        drill.recover(ReplayWal(pg))
        drill.wait_for_service()
        drill.hold()


def run_restore_corrupt(drill: Drill) -> None:
    params = drill.scenario.params
    settings = PostgresSettings(archive=True, archive_timeout_s=int(params["archive_timeout_s"]))
    pg = drill.stack(postgres=settings)["postgres"]
    base, damage = BaseBackup(pg), CorruptPage(pg)
    with drill.load(pg):
        drill.warm_up()
        backup = drill.backup(base)
        drill.wait(float(params["gap_s"]), "after the backup")
        with drill.fault(damage):
            pass
        drill.detect(read=True)
        drill.recover(ArchiveWal(pg))
        drill.recover(RestoreBaseBackup(pg, backup))
        drill.recover(ReplayWal(pg))
        drill.wait_for_service()
        drill.hold()


def run_pitr_drop(drill: Drill) -> None:
    params = drill.scenario.params
    settings = PostgresSettings(archive=True, archive_timeout_s=int(params["archive_timeout_s"]))
    pg = drill.stack(postgres=settings)["postgres"]
    base, accident = BaseBackup(pg), Accident(pg, "drop")
    with drill.load(pg):
        drill.warm_up()
        backup = drill.backup(base)
        drill.wait(float(params["gap_s"]), "after the backup")
        with drill.fault(accident):
            pass
        drill.detect()
        found = drill.recover(FindAccident(pg, backup))
        drill.recover(RestoreBaseBackup(pg, backup, target_xid=int(found.facts["xid"])))
        drill.recover(ReplayWal(pg, to_end=False))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("postgres-restore-dump")
def test_postgres_restore_dump(drill: Drill) -> None:
    run_restore_dump(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("postgres-restore-wal")
def test_postgres_restore_wal(drill: Drill) -> None:
    run_restore_wal(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("postgres-pitr-drop")
def test_postgres_pitr_drop(drill: Drill) -> None:
    run_pitr_drop(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("postgres-restore-corrupt")
def test_postgres_restore_corrupt(drill: Drill) -> None:
    run_restore_corrupt(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
