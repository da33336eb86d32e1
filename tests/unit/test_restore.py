"""Restores measured from recorded drills: the RPO split at the consistency point, the
backup checks, PITR accuracy, the calibration and the projections (rules 7 and 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drills.errors import PlanError, RecoveryError
from drills.kinds.postgres.restore import (
    find_commit,
    find_drop,
    find_mass_delete,
    lsn_value,
    segment_of_lsn,
    segment_start,
    wal_relation,
)
from drills.kinds.redis.restore import find_last_command
from drills.measure.evaluate import evaluate
from drills.measure.verdict import Verdict
from drills.plan import load_plan
from drills.record.clock import Instant
from drills.record.history import read_history
from drills.record.journal import Journal, ScenarioFiles, load_journal, write_json
from drills.record.timeline import Category, Event, EventKind, Timeline
from tests.synthetic import MONO0, T_FAULT, WALL0, make_scenario_dir


def at(t: float) -> Instant:
    return Instant(MONO0 + t, WALL0 + t)


def insert(files: ScenarioFiles, *events: tuple[EventKind, str, float, dict[str, Any]]) -> None:
    """Add events at the given drill times, in time order, before the conclusion."""
    journal = load_journal(files)
    old = list(journal.timeline.events)
    done = next(i for i, e in enumerate(old) if e.kind == EventKind.CHECK_DONE)
    new = [Event(0, kind, name, at(t), data) for kind, name, t, data in events]
    merged = sorted(old[:done] + new, key=lambda e: e.at.mono) + old[done:]
    journal.timeline = Timeline(tuple(Event(i, e.kind, e.name, e.at, e.data)
                                      for i, e in enumerate(merged)))
    if "backup" not in journal.scenario:
        journal.scenario["backup"] = None
    write_json(files.journal, Journal.to_dict(journal))


def backup_steps(point: float, verified: bool = True, method: str = "pg_dump -Fc"
                 ) -> list[tuple[EventKind, str, float, dict[str, Any]]]:
    facts = {"backup": "dump-1", "method": method, "service": "postgres",
             "duration_s": 0.4, "size_bytes": 1_000_000, "sha256": "ab" * 32,
             "consistency": {"earliest_mono": MONO0 + point, "latest_mono": MONO0 + point,
                             "what": "the snapshot"}}
    cat = str(Category.BACKUP)
    return [
        (EventKind.STEP_START, "back up postgres (dump-1)", point - 0.01, {"category": cat}),
        (EventKind.STEP_END, "back up postgres (dump-1)", point + 0.4,
         {"category": cat, "ok": True, **facts}),
        (EventKind.STEP_START, "verify dump-1", point + 0.41, {"category": cat}),
        (EventKind.STEP_END, "verify dump-1", point + 0.5,
         {"category": cat, "ok": True, "backup": "dump-1", "verified": verified,
          "tool": "pg_restore --list", "detail": "9 entries" if verified else "truncated"}),
    ]


def restore_step(start: float, end: float, **extra: Any
                 ) -> list[tuple[EventKind, str, float, dict[str, Any]]]:
    cat = str(Category.RECOVERY)
    return [(EventKind.STEP_START, "restore dump-1", start, {"category": cat}),
            (EventKind.STEP_END, "restore dump-1", end,
             {"category": cat, "ok": True, "phase": "restore", "restored_from": "dump-1",
              "bytes": 40_000_000, "rows": 80_000, **extra})]


def by_key(result, key):  # type: ignore[no-untyped-def]
    return next(c for c in result.checks if c.key == key)


def codes(result):  # type: ignore[no-untyped-def]
    return {f.code for f in result.findings}


TARGETS = {"rto_s": 30.0, "rpo_s": 1.0}


def lost_ack_times(files: ScenarioFiles, lost: int) -> list[float]:
    ops = [op for op in read_history(files.history) if op.outcome == "ok"
           and op.complete_mono is not None and op.complete_mono < MONO0 + T_FAULT]
    return [op.complete_mono - MONO0 for op in ops[-lost:]]  # type: ignore[operator]


def test_writes_lost_after_the_consistency_point_are_the_rpo_of_the_method(
        tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=6, targets=TARGETS)
    insert(files, *backup_steps(9.5), *restore_step(10.1, 11.0))
    result = evaluate(files)
    assert result.restore is not None
    assert result.restore.missing_before_point == ()
    assert result.restore.lost_after_point == 6
    oldest = lost_ack_times(files, 6)[0]
    assert result.restore.window_s == pytest.approx(T_FAULT - oldest)
    assert by_key(result, "restore.complete").verdict == Verdict.PASS
    assert by_key(result, "backup.dump-1").verdict == Verdict.PASS
    assert result.restore.mb_per_s == pytest.approx(40.0 / 0.9)
    assert result.restore.rows_per_s == pytest.approx(80_000 / 0.9)
    assert result.to_dict()["restore"]["lost_after_point"] == 6


def test_writes_missing_from_before_the_point_mean_an_incomplete_backup(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=6, targets=TARGETS)
    insert(files, *backup_steps(9.8), *restore_step(10.1, 11.0))
    result = evaluate(files)
    assert result.restore is not None and len(result.restore.missing_before_point) > 0
    assert by_key(result, "restore.complete").verdict == Verdict.FAIL
    assert "BACKUP_INCOMPLETE" in codes(result)
    assert result.verdict == Verdict.FAIL


def test_an_unusable_backup_fails_the_drill(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, targets=TARGETS)
    insert(files, *backup_steps(9.5, verified=False))
    result = evaluate(files)
    assert by_key(result, "backup.dump-1").verdict == Verdict.FAIL
    assert "BACKUP_UNUSABLE" in codes(result)
    assert result.verdict == Verdict.FAIL


def test_calibration_passes_when_the_loss_is_exactly_after_the_point(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=6, targets=TARGETS)
    acks = lost_ack_times(files, 6)
    point = acks[0] - 0.034  # just before the first lost write was invoked
    insert(files, *backup_steps(point), *restore_step(10.1, 11.0),
           (EventKind.CALIBRATION, "backup consistency point", 11.1, {"check": "backup"}))
    row = by_key(evaluate(files), "calibration.backup")
    assert row.verdict == Verdict.PASS, row.reason


def test_calibration_fails_when_writes_made_after_the_point_survive(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=3, targets=TARGETS)
    acks = lost_ack_times(files, 6)  # the point is before 6 writes, only 3 are gone
    insert(files, *backup_steps(acks[0] - 0.034), *restore_step(10.1, 11.0),
           (EventKind.CALIBRATION, "backup consistency point", 11.1, {"check": "backup"}))
    result = evaluate(files)
    row = by_key(result, "calibration.backup")
    assert row.verdict == Verdict.FAIL
    assert "survived" in row.reason and "CALIBRATION_FAILED" in codes(result)


def test_pitr_accuracy_counts_writes_made_before_the_restore_replaced_the_data(
        tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, targets=TARGETS)
    # the restore began at 11.6, after the service had already answered again at 11.55:
    # writes invoked between the target (10.0) and 11.6 that are present overshot it
    insert(files, *backup_steps(5.0), *restore_step(11.6, 12.0, pitr_target_xid=1234))
    result = evaluate(files)
    row = by_key(result, "restore.pitr")
    assert row.verdict == Verdict.FAIL and "PITR_OVERSHOT" in codes(result)
    assert result.restore is not None and result.restore.pitr is not None
    assert result.restore.pitr.target_xid == 1234
    assert 0 < (result.restore.pitr.distance_s or 0) < 0.2


def test_pitr_accuracy_passes_when_nothing_after_the_target_is_present(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, targets=TARGETS)
    insert(files, *backup_steps(5.0), *restore_step(10.05, 11.0, pitr_target_xid=1234))
    row = by_key(evaluate(files), "restore.pitr")
    assert row.verdict == Verdict.PASS, row.reason


def test_the_projection_on_the_real_schedule_is_labelled_and_never_a_target(
        tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=6, targets=TARGETS)
    journal = load_journal(files)
    journal.scenario["backup"] = {"every_s": 86400.0, "production_bytes": 400_000_000}
    write_json(files.journal, Journal.to_dict(journal))
    insert(files, *backup_steps(9.5), *restore_step(10.1, 11.0))
    result = evaluate(files)
    assert result.projection is not None
    assert result.projection.worst_case_rpo_s == pytest.approx(86400.4)
    assert result.projection.projected_restore_s == pytest.approx(0.9 * 10)
    assert result.to_dict()["projection"]["label"] == "projection, not measured"
    assert all("projection" not in c.key for c in result.checks)


def test_find_drop_reads_pg_waldump_output() -> None:
    text = (
        "rmgr: Transaction len (rec/tot):     34/    34, tx:        731, lsn: 0/03000110, "
        "prev 0/030000D8, desc: COMMIT 2026-12-02 14:51:09.001 UTC\n"
        "rmgr: Transaction len (rec/tot):   1341/  1341, tx:      32248, lsn: 0/07163780, "
        "prev 0/07163748, desc: COMMIT 2026-12-02 14:51:09.553603 UTC; rels: base/13572/16384 "
        "base/13572/16388; dropped stats: 2/13572/16384\n")
    assert find_drop(text) == (32248, "0/07163780", text.splitlines()[1])
    assert find_drop(text.splitlines()[0]) is None


def test_find_last_command_cuts_exactly_one_resp_record() -> None:
    aof = (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nw:1\r\n$1\r\na\r\n"
           b"*1\r\n$8\r\nFLUSHALL\r\n*3\r\n$3\r\nSET\r\n$3\r\nw:2\r\n$1\r\nb\r\n")
    start, end = find_last_command(aof, b"flushall")  # type: ignore[misc]
    assert aof[start:end] == b"*1\r\n$8\r\nFLUSHALL\r\n"
    assert find_last_command(aof[:start] + aof[end:], b"FLUSHALL") is None
    with pytest.raises(RecoveryError, match="not a RESP array"):
        find_last_command(b"garbage", b"FLUSHALL")


@pytest.mark.parametrize(("text", "bytes_"), [("200MB", 200_000_000), ("1.5GiB", 3 * 2**29),
                                               ("512", 512), ("64 kB", 64_000)])
def test_dataset_sizes(tmp_path: Path, text: str, bytes_: int) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(f"defaults: {{dataset: {text!r}}}\nscenarios:\n  postgres-restore-dump:\n"
                    "    backup: {every: 24h, production_size: 2TB}\n"
                    "    targets: {rto: 30m, rpo: 1d}\n")
    scenario = load_plan(path).scenario("postgres-restore-dump")
    assert scenario.dataset_bytes == bytes_
    assert scenario.backup is not None and scenario.backup.every_s == 86400
    assert scenario.backup.production_bytes == 2 * 10**12


@pytest.mark.parametrize(("entry", "key", "says"), [
    ("dataset: 200 parsecs", "dataset", "cannot read size"),
    ("dataset: 100TB", "dataset", "at most"),
    ("backup: {}", "backup", "empty"),
    ("backup: {every: 0s}", "backup.every", "more than 0"),
    ("backup: {daily: yes}", "backup.daily", "unknown key"),
])
def test_bad_dataset_and_backup_keys_are_named(tmp_path: Path, entry: str, key: str,
                                               says: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(f"scenarios:\n  postgres-restore-dump:\n    {entry}\n"
                    "    targets: {rto: 30m, rpo: 1d}\n")
    with pytest.raises(PlanError, match=says) as caught:
        load_plan(path)
    assert f"scenarios.postgres-restore-dump.{key}" in str(caught.value)


def test_find_mass_delete_picks_the_transaction_that_deleted_most() -> None:
    rel = wal_relation("base/16384/16385")
    assert rel == "1663/16384/16385"

    def delete(xid: int, node: int = 16385) -> str:
        return (f"rmgr: Heap        len (rec/tot):     54/    54, tx:        {xid}, lsn: "
                f"0/0301F5A8, prev 0/0301F570, desc: DELETE off 3 flags 0x00 KEYS_UPDATED , "
                f"blkref #0: rel 1663/16384/{node} blk 0")

    heap = "\n".join([delete(700), *[delete(731) for _ in range(5)],
                      *[delete(800, node=99999) for _ in range(9)]])
    assert find_mass_delete(heap, rel) == (731, 5)
    assert find_mass_delete(heap, "1663/1/2") is None
    commits = ("rmgr: Transaction len (rec/tot):     34/    34, tx:        731, lsn: 0/03000110,"
               " prev 0/030000D8, desc: COMMIT 2026-12-02 14:51:09.001 UTC")
    assert find_commit(commits, 731) == (731, "0/03000110", commits)
    assert find_commit(commits, 732) is None
    with pytest.raises(RecoveryError):
        wal_relation("pg_tblspc/16400/PG_15_202209061/16384/16385")


def test_wal_positions() -> None:
    assert lsn_value("0/3000028") == 0x3000028
    assert segment_of_lsn("1/A3000028") == "00000001000000A3"
    assert segment_start("000000010000000100000004") == (1 << 32) | (4 << 24)
    # a replay that ends where the newest segment begins has read none of it
    assert lsn_value("0/4000000") <= segment_start("000000010000000000000004")
    assert lsn_value("0/5000000") > segment_start("000000010000000000000004")
