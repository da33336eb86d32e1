"""Backups taken from real servers, and their checks proven on backups broken on purpose.

Each check must be able to fail: a dump cut short, a base backup with flipped bytes and
an RDB with flipped bytes are each taken for real, damaged, and must be rejected by the
backup's own tool before any restore is tried. A drill whose backup is unusable ends
``fail`` with BACKUP_UNUSABLE, never ``pass``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drills.backup import Backup, BackupMethod, BackupVerification, sha256_of
from drills.drill import Drill
from drills.errors import BackupError, RecoveryError
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.accident import Accident
from drills.kinds.postgres.backup import BaseBackup, PgDump
from drills.kinds.postgres.restore import FindAccident, ReplayWal, RestoreBaseBackup, find_drop
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis import store as redis_store
from drills.kinds.redis.backup import AofCopy, RdbSnapshot
from drills.kinds.redis.settings import RedisSettings
from drills.measure.verdict import Verdict
from drills.plan import load_plan
from drills.runtime import choose
from drills.stack.stack import Stack

pytestmark = pytest.mark.slow

RUNTIMES = ["local", pytest.param("compose", marks=pytest.mark.compose)]


@pytest.fixture(scope="module", params=RUNTIMES)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("logs")
    runtime = choose.factory(request.param)(f"itest-backups-{request.param}", logs)
    with Stack(runtime, runtime.services({
        "pg": PostgresSettings(archive=True, archive_timeout_s=1),
        "cache": RedisSettings(appendonly=True),
    })) as made:
        for name in ("pg", "cache"):
            store = pg_store if name == "pg" else redis_store
            store.prepare(made[name].endpoint)
            store.load_dataset(made[name].endpoint, 2_000_000)
        yield made


def flip(path: Path, offset: int, count: int = 16) -> None:
    """Flip ``count`` bytes of ``path`` at ``offset`` (XOR 0xFF), in place."""
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(count)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def test_a_dump_verifies_and_a_truncated_copy_does_not(stack: Stack) -> None:
    dump = PgDump(stack["pg"])
    made = dump.take("dump-ok")
    assert made.size_bytes > 100_000 and made.sha256 == sha256_of(made.host_path)
    assert made.consistency.earliest.mono <= made.consistency.latest.mono
    assert made.consistency.facts["lsn"] and made.consistency.facts["snapshot"]
    checked = dump.verify(made)
    assert checked.ok, checked.detail
    with open(made.host_path, "r+b") as f:  # cut the dump to 60 %: its TOC still lists
        f.truncate(made.size_bytes * 6 // 10)
    broken = dump.verify(made)
    assert not broken.ok
    assert "pg_restore" in broken.detail


def test_a_base_backup_verifies_and_flipped_bytes_do_not(stack: Stack) -> None:
    base = BaseBackup(stack["pg"])
    made = base.take("base-ok")
    assert (made.host_path / "backup_manifest").is_file()
    assert made.facts["start_lsn"] and made.facts["end_lsn"]
    assert base.verify(made).ok
    data_files = sorted((p for p in (made.host_path / "base").rglob("*")
                         if p.is_file() and p.stat().st_size > 8192),
                        key=lambda p: p.stat().st_size)
    flip(data_files[-1], 4096)
    broken = base.verify(made)
    assert not broken.ok
    assert "checksum mismatch" in broken.detail, broken.detail


def test_an_rdb_verifies_and_flipped_bytes_do_not(stack: Stack) -> None:
    rdb = RdbSnapshot(stack["cache"])
    made = rdb.take("rdb-ok")
    assert made.facts["keys_at_save"] > 1000
    assert rdb.verify(made).ok
    flip(made.host_path, made.size_bytes // 2)
    broken = rdb.verify(made)
    assert not broken.ok, broken.detail


def test_backups_live_outside_the_data(stack: Stack) -> None:
    for name in ("pg", "cache"):
        where = stack[name].backup_dir()  # type: ignore[attr-defined]
        assert where.host.is_dir()
        assert not str(where.inside).startswith(stack[name].data_path)  # type: ignore[attr-defined]
        assert oct(where.host.stat().st_mode & 0o777) == "0o700"


def test_the_archive_holds_the_wal_an_operator_searches(stack: Stack) -> None:
    """pg_waldump over the archive finds a DROP TABLE's commit, as FindAccident does."""
    pg = stack["pg"]
    with pg_store.connect(pg.endpoint) as conn:
        conn.execute("CREATE TABLE doomed (id int)")
        conn.execute("DROP TABLE doomed")
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
    where = pg.backup_dir()  # type: ignore[attr-defined]
    for _ in range(200):
        if (where.host / "wal" / segment).exists():
            break
        time.sleep(0.05)
    done = pg.exec(["pg_waldump", "--rmgr=Transaction", "-p", where.path("wal"),  # type: ignore[attr-defined]
                    segment], timeout_s=60)
    found = find_drop(done.stdout.decode())
    assert found is not None, done.stdout.decode()[-2000:]
    xid, lsn, record = found
    assert xid > 0 and "/" in lsn and "rels:" in record


class _Truncating(BackupMethod):
    """A real dump, cut short after it is taken: a backup job that ran out of disk."""

    label, method = "dump", "pg_dump -Fc"

    def __init__(self, inner: PgDump) -> None:
        self.service, self.store, self.inner = inner.service, inner.store, inner

    def take(self, name: str) -> Backup:
        made = self.inner.take(name)
        os.truncate(made.host_path, made.size_bytes // 2)
        return made

    def verify(self, backup: Backup) -> BackupVerification:
        return self.inner.verify(backup)


def test_a_drill_with_an_unusable_backup_fails(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text("defaults:\n  workload: {users: 2, warmup: 1s, hold: 500ms}\n"
                         "scenarios:\n  postgres-restore-dump:\n    dataset: 1MB\n"
                         "    targets: {rto: 60s, rpo: 30s}\n")
    plan = load_plan(plan_file)
    drill = Drill(plan.scenario("postgres-restore-dump"), plan, "itest-unusable",
                  tmp_path / "out", choose.factory("local"))
    with pytest.raises(BackupError, match="unusable"), drill:
        pg = drill.stack(postgres=PostgresSettings())["postgres"]
        with drill.load(pg):
            drill.warm_up()
            drill.backup(_Truncating(PgDump(pg)))
    result = drill.result
    assert result is not None and result.verdict == Verdict.FAIL, result.explain()
    assert "BACKUP_UNUSABLE" in {f.code for f in result.findings}
    row = next(c for c in result.checks if c.key == "backup.dump-1")
    assert row.verdict == Verdict.FAIL
    summary = json.loads((drill.files.root / "result.json").read_text())
    assert summary["backups"][0]["verified"] is False
    assert not Path(summary["backups"][0]["path"]).exists()  # went with the run


def test_an_accidental_delete_is_found_in_the_archive_by_its_deletes(stack: Stack) -> None:
    """DELETE without WHERE: the transaction with the most heap DELETEs on the table."""
    pg = stack["pg"]
    with pg_store.connect(pg.endpoint) as conn:
        conn.execute(f"INSERT INTO {pg_store.TABLE} (id, value) SELECT g, md5(g::text) "
                     "FROM generate_series(1000001, 1000500) g")
        conn.execute(f"DELETE FROM {pg_store.TABLE} WHERE id = 1000001")  # a small one first
    base = BaseBackup(pg).take("base-delete")
    Accident(pg, "delete").inject()
    found = FindAccident(pg, base, "delete").run(120)
    assert found.facts["deleted_rows_in_wal"] == 499
    assert "COMMIT" in found.facts["record"] and found.facts["xid"] > 0


def test_an_aof_copy_verifies_and_flipped_bytes_do_not(stack: Stack) -> None:
    aof = AofCopy(stack["cache"])
    made = aof.take("aof-ok")
    assert made.facts["keys"] > 1000 and made.facts["writes_paused_s"] < 5
    checked = aof.verify(made)
    assert checked.ok, checked.detail
    base = next(made.host_path.glob("*.base.*"))
    flip(base, base.stat().st_size // 2)
    broken = aof.verify(made)
    assert not broken.ok, broken.detail


def test_a_replay_that_stops_before_the_end_of_the_archive_is_a_failed_recovery(
        tmp_path: Path) -> None:
    """A failing restore_command reads as "no more WAL": PostgreSQL promotes at the end of
    the base backup. ReplayWal must not call that a recovery to the end of the archive."""
    runtime = choose.factory("local")("itest-short-replay", tmp_path / "logs")
    with Stack(runtime, runtime.services({"pg": PostgresSettings(archive=True)})) as stack:
        pg = stack["pg"]
        pg_store.prepare(pg.endpoint)
        base = BaseBackup(pg).take("base-short")
        with pg_store.connect(pg.endpoint) as conn:
            conn.execute(f"INSERT INTO {pg_store.TABLE} (id, value) SELECT g, md5(g::text) "
                         "FROM generate_series(1, 5000) g")
            segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        archive = pg.backup_dir().host / "wal"  # type: ignore[attr-defined]
        for _ in range(200):
            if (archive / segment).exists():
                break
            time.sleep(0.05)
        RestoreBaseBackup(pg, base).run(60)
        for wal in archive.iterdir():  # the server's account can no longer read the archive
            wal.chmod(0)
        with pytest.raises(RecoveryError, match="not replayed to its end"):
            ReplayWal(pg).run(60)
