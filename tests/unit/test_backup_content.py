"""A team's backup judged by its content: formats drills cannot check, missing tools, verdicts.

Backups with real dumps and Redis files from real servers: tests/integration/test_team_backups.py.
Here, files written by hand: what is not a known format is "made, N bytes; content judged
by the restore", never a pass; a missing checking tool is named with how to install it;
and the verdict row of such a backup does not pass.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from drills.backup import Backup, BackupVerification, ConsistencyPoint
from drills.backup.procedure import ProcedureBackup
from drills.drill import Drill
from drills.errors import BackupError
from drills.measure.evaluate import evaluate
from drills.measure.verdict import Verdict
from drills.plan import load_plan
from drills.plan.procedure_spec import BackupJob, Procedure
from drills.procedures.context import ProcedureContext
from drills.record.clock import Instant
from drills.record.timeline import Category, EventKind
from drills.runtime import choose
from tests.synthetic import MONO0, make_scenario_dir
from tests.unit.test_restore import TARGETS, by_key, codes, insert

SQL_HEAD = b"--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE orders (id int);\n"
SQL_END = b"\n--\n-- PostgreSQL database dump complete\n--\n\n"
CLUSTER_HEAD = b"--\n-- PostgreSQL database cluster dump\n--\n\nCREATE ROLE shop;\n"
CLUSTER_END = b"\n--\n-- PostgreSQL database cluster dump complete\n--\n\n"


class _Service:
    name = "db"
    kind = "postgres"


def job(tmp_path: Path, script: str = "true") -> ProcedureBackup:
    ctx = ProcedureContext(run_dir=tmp_path, logs_dir=tmp_path / "logs", services={})
    procedure = Procedure("backup", ("sh", "-c", script), tmp_path, {"OUT": "{backup_dir}"},
                          30.0)
    return ProcedureBackup(_Service(), BackupJob("nightly", "db", None, "backup", 86400.0),  # type: ignore[arg-type]
                           procedure, ctx, tmp_path / "team-backups")


def made(path: Path) -> Backup:
    """A backup of the job that made ``path`` (a file or a directory)."""
    now = Instant.now()
    size = path.stat().st_size if path.is_file() else \
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return Backup("nightly-1", "the team's procedure backup", "db", path, str(path),
                  ConsistencyPoint(now, now, "between"), now, now, size, "")


def verify(tmp_path: Path, name: str, content: bytes) -> BackupVerification:
    path = tmp_path / name
    path.write_bytes(content)
    return job(tmp_path).verify(made(path))


# -- what drills cannot check: made, and no more ---------------------------------------


def test_a_file_of_an_unknown_format_is_made_not_usable(tmp_path: Path) -> None:
    checked = verify(tmp_path, "shop.bak", b"\x00\x01 something only the team's tool reads")
    assert checked.ok is None, checked  # was ok True: "its format is the team's"
    assert checked.detail.startswith("shop.bak: made, 39 bytes; content judged by the restore")
    assert checked.to_dict()["verified"] is None


def test_a_gzip_of_an_unknown_format_is_made_and_cut_short_is_damaged(tmp_path: Path) -> None:
    packed = gzip.compress(b"tar-like bytes " * 5000)
    whole = verify(tmp_path, "files.tar.gz", packed)
    assert whole.ok is None, whole  # was "gzip stream intact": a pass of the content
    assert "gzip stream intact" in whole.detail and "content judged by the restore" in whole.detail
    broken = verify(tmp_path, "cut.tar.gz", packed[: len(packed) * 6 // 10])
    assert broken.ok is False and "cut short" in broken.detail


# -- plain SQL: complete to its end marker ---------------------------------------------


def test_a_plain_sql_dump_without_its_end_marker_fails(tmp_path: Path) -> None:
    cut = verify(tmp_path, "shop.sql", SQL_HEAD + b"COPY public.orders (id) FROM stdin;\n1\n2\n")
    assert cut.ok is False, cut.detail  # was ok True: any non-empty file
    assert "no end marker '-- PostgreSQL database dump complete'" in cut.detail
    assert "its last line: '2'" in cut.detail
    whole = verify(tmp_path, "whole.sql", SQL_HEAD + SQL_END + b"\\unrestrict abc123\n\n")
    assert whole.ok is True, whole.detail


def test_a_pg_dumpall_script_ends_with_the_cluster_marker_not_a_databases(
        tmp_path: Path) -> None:
    databases_only = CLUSTER_HEAD + SQL_HEAD + SQL_END
    cut = verify(tmp_path, "all.sql", databases_only)
    assert cut.ok is False and "cluster dump complete" in cut.detail, cut.detail
    assert verify(tmp_path, "whole.sql", databases_only + CLUSTER_END).ok is True


def test_sql_after_the_end_marker_is_not_complete(tmp_path: Path) -> None:
    """Two dumps in one file, the second cut: the first one's marker does not count."""
    checked = verify(tmp_path, "two.sql", SQL_HEAD + SQL_END + SQL_HEAD + b"COPY x FROM")
    assert checked.ok is False, checked.detail


def test_a_gzip_sql_dump_must_decompress_to_its_end(tmp_path: Path) -> None:
    body = SQL_HEAD + b"".join(b"INSERT INTO orders VALUES (%d);\n" % i for i in range(20000))
    packed = gzip.compress(body + SQL_END)
    assert verify(tmp_path, "shop.sql.gz", packed).ok is True
    cut = verify(tmp_path, "cut.sql.gz", packed[: len(packed) * 6 // 10])
    assert cut.ok is False and "gzip stream is cut short" in cut.detail, cut.detail
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0xFF
    assert verify(tmp_path, "flipped.sql.gz", bytes(flipped)).ok is False
    unended = verify(tmp_path, "unended.sql.gz", gzip.compress(body))  # gzip whole, dump not
    assert unended.ok is False and "no end marker" in unended.detail, unended.detail


# -- a missing tool: could not verify, naming it and how to install it -----------------


@pytest.fixture
def no_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("DRILLS_PG_BINDIR", raising=False)
    monkeypatch.delenv("DRILLS_REDIS_SERVER", raising=False)
    monkeypatch.setattr("drills.backup.content.tools.DEBIAN_POSTGRESQL", tmp_path / "none")


@pytest.mark.usefixtures("no_tools")
def test_without_pg_restore_a_dump_could_not_be_verified(tmp_path: Path) -> None:
    checked = verify(tmp_path, "shop.dump", b"PGDMP\x01\x0e\x00" + b"\x00" * 500)
    assert checked.ok is None, checked  # was ok True
    assert "pg_restore is not installed" in checked.detail
    assert "apt-get install postgresql-client" in checked.detail
    assert "DRILLS_PG_BINDIR" in checked.detail


@pytest.mark.usefixtures("no_tools")
def test_without_redis_tools_an_rdb_could_not_be_verified(tmp_path: Path) -> None:
    checked = verify(tmp_path, "cache.rdb", b"REDIS0010" + b"\xfa" * 200)
    assert checked.ok is None, checked
    assert "redis-check-rdb is not installed" in checked.detail
    assert "apt-get install redis-tools" in checked.detail
    aof = verify(tmp_path, "cache.aof", b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
    assert aof.ok is None and "redis-check-aof is not installed" in aof.detail


def test_a_file_newer_than_the_hosts_tools_could_not_be_verified_not_damaged(
        tmp_path: Path) -> None:
    """A dump of pg_dump 99, an RDB of a future Redis: this host's tools cannot judge them."""
    dump = verify(tmp_path, "shop.dump", b"PGDMP\x01\x63\x00" + b"\x04\x08\x01" * 100)
    assert dump.ok is None, dump  # was ok True
    assert "archive version 1.99" in dump.detail or "pg_restore is not installed" in dump.detail
    rdb = verify(tmp_path, "cache.rdb", b"REDIS0099" + b"\xff" + b"\x00" * 8)
    assert rdb.ok is None, rdb
    assert "RDB version 99" in rdb.detail or "redis-check-rdb is not installed" in rdb.detail
    junk = verify(tmp_path, "junk.dump", b"PGDMPxxxxxxxxxxxxxxxxx")  # no version at all
    assert junk.ok is False, junk


# -- several files in one backup -------------------------------------------------------


def test_a_directory_passes_only_when_every_file_in_it_does(tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "shop.sql").write_bytes(SQL_HEAD + SQL_END)
    (folder / "notes.bin").write_bytes(b"\x00 the team's own")
    unsure = job(tmp_path).verify(made(folder))
    assert unsure.ok is None, unsure  # was ok True
    assert "2 parts checked: 1 verified, 0 damaged, 1 not verified" in unsure.detail
    (folder / "notes.bin").unlink()
    (folder / "crm.sql").write_bytes(SQL_HEAD)
    broken = job(tmp_path).verify(made(folder))
    assert broken.ok is False and broken.detail.index("crm.sql") < broken.detail.index(
        "shop.sql"), broken.detail  # the failure first
    (folder / "crm.sql").write_bytes(SQL_HEAD + SQL_END)
    assert job(tmp_path).verify(made(folder)).ok is True


# -- the drill and its verdict ---------------------------------------------------------


def drill(tmp_path: Path) -> Drill:
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text("scenarios:\n  postgres-restore-dump:\n"
                         "    targets: {rto: 60s, rpo: 30s}\n")
    plan = load_plan(plan_file)
    return Drill(plan.scenario("postgres-restore-dump"), plan, "utest-content",
                 tmp_path / "out", choose.factory("local"))


def test_a_drill_goes_on_from_an_unverified_backup_and_stops_at_a_damaged_one(
        tmp_path: Path) -> None:
    run = drill(tmp_path)
    run.backup(job(tmp_path, 'echo "team format" > "$OUT/shop.bak"'))
    verified = [s.data for s in run.timeline.steps(Category.BACKUP) if "verified" in s.data]
    assert verified[0]["verified"] is None, verified  # was True
    assert "content judged by the restore" in verified[0]["detail"]
    cut = tmp_path / "shop.sql"
    cut.write_bytes(SQL_HEAD)
    with pytest.raises(BackupError, match="unusable"):  # was no error: a non-empty file
        run.backup(job(tmp_path, f'cp {cut} "$OUT/"'))


def verify_steps(check: BackupVerification) -> list[tuple[EventKind, str, float, dict[str, Any]]]:
    """A team's backup taken at 9.5 s and its verification, as the drill records them."""
    cat = str(Category.BACKUP)
    facts = {"backup": "nightly-1", "method": "the team's procedure backup (backup job "
             "nightly)", "service": "postgres", "duration_s": 0.4, "size_bytes": 38,
             "sha256": "ab" * 32, "consistency": {"earliest_mono": MONO0 + 9.0,
                                                  "latest_mono": MONO0 + 9.4, "what": "x"}}
    return [
        (EventKind.STEP_START, "back up postgres (nightly-1)", 9.0, {"category": cat}),
        (EventKind.STEP_END, "back up postgres (nightly-1)", 9.4,
         {"category": cat, "ok": True, **facts}),
        (EventKind.STEP_START, "verify nightly-1", 9.41, {"category": cat}),
        (EventKind.STEP_END, "verify nightly-1", 9.5,
         {"category": cat, "ok": True, "backup": "nightly-1", "service": "postgres",
          **check.to_dict()}),
    ]


@pytest.mark.parametrize("content", [b"\x00 the team's own format, 38 bytes long",
                                     SQL_HEAD + b"COPY public.orders (id) FROM stdin;\n"])
def test_the_row_of_a_backup_not_verified_by_its_content_does_not_pass(
        tmp_path: Path, content: bytes) -> None:
    """An unknown format, a cut dump: was "backup nightly-1 usable ✓ pass"."""
    check = verify(tmp_path, "shop.bak", content)
    files = make_scenario_dir(tmp_path / "run", lost=0, targets=TARGETS)
    insert(files, *verify_steps(check))
    result = evaluate(files)
    row = by_key(result, "backup.nightly-1")
    assert row.verdict != Verdict.PASS, row
    assert result.verdict != Verdict.PASS
    assert check.detail in row.reason, row
    if check.ok is False:
        assert row.verdict == Verdict.FAIL and "BACKUP_UNUSABLE" in codes(result)
    else:
        assert row.verdict == Verdict.COULD_NOT_VERIFY and "BACKUP_UNUSABLE" not in codes(result)
