"""A backup job's restore rehearsal (`verify: restore`, issue 19 item 5): the plan key and the
verdict row built from the rehearsal's timeline step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drills.cli import main
from drills.errors import PlanError
from drills.measure.evaluate import evaluate
from drills.measure.findings import CATALOGUE, Finding, Severity
from drills.measure.rehearsal import compare, rehearsal_rows
from drills.measure.verdict import Verdict
from drills.plan import load_plan
from drills.record.timeline import Category, EventKind, Timeline
from tests.synthetic import make_scenario_dir
from tests.unit.test_evaluate import add_event, by_key, codes
from tests.unit.test_plan_v2 import PROCS, plan_with

LOSS = """
  loss:
    fault: {lose_server: db}
    recovery: [{provision: db}, {procedure: restore}]
    checks: [{sql: "SELECT count(*) FROM orders", service: db, at_least: 2}]
    targets: {rto: 10m, rpo: 25h}
"""
VERIFIED = PROCS.replace("retention: 7d}", "retention: 7d, verify: restore}")


# -- the plan ------------------------------------------------------------------------------


def test_verify_restore_names_the_one_restore_procedure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_with(tmp_path, LOSS, VERIFIED)
    plan = load_plan(path)
    assert plan.backups["daily"].rehearse == "restore"
    assert plan.backups["daily"].to_dict()["verify"] == "restore"
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "rehearse the restore of daily (verify: restore): procedure restore" in out


def test_a_job_without_verify_is_not_rehearsed(tmp_path: Path) -> None:
    plan = load_plan(plan_with(tmp_path, LOSS))
    assert plan.backups["daily"].rehearse is None
    assert "verify" not in plan.backups["daily"].to_dict()


@pytest.mark.parametrize(("extra", "said"), [
    (VERIFIED.replace("verify: restore", "verify: content"),
     "'content': the only value is restore"),
    (VERIFIED.replace('"{latest:daily}"', '"/backups/latest.sql"'),
     "no procedure names {latest:daily}"),
    (VERIFIED.replace("procedures:\n", "procedures:\n  again: {run: [restore.sh, "
                      "\"{latest:daily}\"]}\n"),
     "procedures again, restore all name {latest:daily}: keep one"),
    (VERIFIED.replace("service: db, procedure: dump", "service: cache, procedure: dump"),
     "a restore rehearsal is for postgres services for now; backups.daily.service is a redis"),
])
def test_verify_restore_is_refused_naming_the_key(tmp_path: Path, extra: str,
                                                   said: str) -> None:
    with pytest.raises(PlanError) as err:
        load_plan(plan_with(tmp_path, LOSS, extra))
    assert "backups.daily.verify" in str(err.value)
    assert said in str(err.value)


# -- the row ---------------------------------------------------------------------------------


TABLES = {"leads": 3, "orders": 2}


def _step(**data: Any) -> dict[str, Any]:
    return {"procedure": "restore", "service": "db", "restored": True, "restore_s": 2.3,
            "checks": [{"check": "`SELECT count(*) FROM leads` >= 3", "verdict": "pass",
                        "detail": "answered 3 (wanted >= 3)"}],
            "tables_before_backup": dict(TABLES), "tables_at_backup": dict(TABLES),
            "tables_restored": dict(TABLES), **data}


def _rows(end: dict[str, Any] | None) -> tuple[list[Any], list[Finding]]:
    tl = Timeline()
    tl.record(EventKind.STEP_START, "rehearse restore of daily", category=str(Category.BACKUP),
              rehearsal="daily", service="db", procedure="restore")
    if end is not None:
        tl.record(EventKind.STEP_END, "rehearse restore of daily",
                  category=str(Category.BACKUP), ok=False, **end)
    findings: list[Finding] = []
    return rehearsal_rows(tl.steps(), findings), findings


def test_a_rehearsal_that_restores_everything_passes_with_its_time() -> None:
    rows, findings = _rows(_step())
    (row,) = rows
    assert row.key == "backup.daily.rehearsal" and row.title == "backup daily restore rehearsal"
    assert row.target == "restores into a scratch server; the plan's checks pass there"
    assert row.verdict == Verdict.PASS and findings == []
    assert row.measured == "restored in 2.300 s; 1 of 1 checks pass; 2 of 2 tables with their rows"
    assert row.measured_value == 2.3


@pytest.mark.parametrize(("change", "said"), [
    ({"restored": False, "procedure_error": "exit 1 after 0.40 s:\nrole \"app\" does not exist"},
     "the restore procedure restore failed: exit 1 after 0.40 s:\nrole \"app\" does not exist"),
    ({"checks": [{"check": "`SELECT count(*) FROM leads` >= 3", "verdict": "fail",
                  "detail": "no answer: relation \"leads\" does not exist\nLINE 1: ..."}]},
     "check `SELECT count(*) FROM leads` >= 3 failed there: no answer: relation \"leads\" "
     "does not exist LINE 1: ..."),
    ({"tables_restored": {"orders": 2}}, "missing in the scratch server: leads"),
    ({"tables_restored": {"orders": 2, "leads": 1}},
     "short in the scratch server: leads (1 rows of 3)"),
])
def test_a_rehearsal_that_does_not_bring_everything_back_fails(change: dict[str, Any],
                                                                said: str) -> None:
    rows, findings = _rows(_step(**change))
    assert rows[0].verdict == Verdict.FAIL
    assert said in rows[0].reason
    assert [f.code for f in findings] == ["REHEARSAL_FAILED"]
    assert findings[0].message.startswith("backup daily: ")
    assert CATALOGUE["REHEARSAL_FAILED"].severity is Severity.CRITICAL


def test_rows_written_during_the_backup_are_not_judged_but_the_table_must_be_there() -> None:
    grew = {"leads": 3, "orders": 5}
    rows, _ = _rows(_step(tables_at_backup=grew, tables_restored={"leads": 3, "orders": 2}))
    assert rows[0].verdict == Verdict.PASS
    assert "2 of 2 tables with their rows (1 written during the backup: rows not judged)" \
        in rows[0].measured
    rows, _ = _rows(_step(tables_at_backup=grew, tables_restored={"leads": 3}))
    assert rows[0].verdict == Verdict.FAIL and "missing in the scratch server: orders" \
        in rows[0].reason


def test_compare_without_a_count_before_the_backup_judges_every_table() -> None:
    found = compare({"a": 4, "b": 2}, {"a": 3})
    assert found.missing == ("b",) and found.short == (("a", 4, 3),)
    assert found.total == 2 and found.complete == 0


@pytest.mark.parametrize(("end", "said"), [
    ({"could_not_verify": "no scratch PostgreSQL could be started here: PostgreSQL server "
                          "binaries (initdb, postgres) not found"},
     "PostgreSQL server binaries (initdb, postgres) not found"),
    (_step(tables_restored=None, tables_error="postgres: timeout"),
     "the scratch server's tables could not be listed: postgres: timeout"),
    (None, "the drill stopped during the rehearsal"),
])
def test_a_rehearsal_that_could_not_run_is_never_a_pass(end: dict[str, Any] | None,
                                                        said: str) -> None:
    rows, findings = _rows(end)
    assert rows[0].verdict == Verdict.COULD_NOT_VERIFY and said in rows[0].reason
    assert [f.code for f in findings] == ["COULD_NOT_VERIFY"]


def test_the_rehearsal_row_is_among_the_drills_verdicts(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, targets={"rto_s": 30.0})
    add_event(files, EventKind.STEP_START, "rehearse restore of daily",
              category=str(Category.BACKUP), rehearsal="daily", service="db",
              procedure="restore")
    add_event(files, EventKind.STEP_END, "rehearse restore of daily",
              category=str(Category.BACKUP), ok=False,
              **_step(tables_restored={"orders": 2}))
    result = evaluate(files)
    row = by_key(result, "backup.daily.rehearsal")
    assert row.verdict == Verdict.FAIL and "leads" in row.reason
    assert "REHEARSAL_FAILED" in codes(result) and result.verdict == Verdict.FAIL


# -- the runner, where it needs no server -------------------------------------------------


def test_the_checks_rehearsed_are_the_sql_checks_of_the_scenarios_restoring_the_job(
        tmp_path: Path) -> None:
    from drills.plan_drill.rehearsal import sql_checks

    plan = load_plan(plan_with(tmp_path, LOSS + """
  loss-again:
    fault: {lose_server: db}
    recovery: [{provision: db}, {procedure: restore}]
    checks: [{sql: "SELECT count(*) FROM orders", service: db, at_least: 2},
             {sql: "SELECT count(*) FROM items", service: db, equals: 4},
             {redis: [DBSIZE], service: cache, at_least: 0}]
    targets: {rto: 10m, rpo: 25h}
  kill:
    fault: {kill: db}
    recovery: [{restart: db}]
    checks: [{sql: "SELECT count(*) FROM users", service: db, at_least: 1}]
    targets: {rto: 10m, rpo: 25h}
""", VERIFIED))
    found = sql_checks(plan, plan.backups["daily"])
    assert [c.query for c in found] == ["SELECT count(*) FROM orders",
                                        "SELECT count(*) FROM items"]


def test_no_postgres_binaries_is_could_not_verify_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile
    import uuid
    from types import SimpleNamespace
    from typing import cast

    from drills.drill import Drill
    from drills.errors import StackError
    from drills.kinds.postgres import local
    from drills.plan_drill.rehearsal import rehearse
    from drills.procedures.context import ProcedureContext

    def missing() -> Path:
        raise StackError("PostgreSQL server binaries (initdb, postgres) not found")

    monkeypatch.setattr(local, "postgres_bindir", missing)
    plan = load_plan(plan_with(tmp_path, LOSS, VERIFIED))
    run_id = f"utest-{uuid.uuid4().hex[:6]}"
    drill = SimpleNamespace(run_id=run_id, timeline=Timeline(),
                            files=SimpleNamespace(logs=tmp_path / "logs"))
    ctx = ProcedureContext(run_dir=tmp_path, logs_dir=tmp_path / "logs", services={})
    rehearse(cast(Drill, drill), plan, plan.backups["daily"], ctx, {}, None)
    findings: list[Finding] = []
    (row,) = rehearsal_rows(drill.timeline.steps(), findings)
    assert row.verdict == Verdict.COULD_NOT_VERIFY
    assert "no scratch PostgreSQL could be started here: PostgreSQL server binaries" in row.reason
    assert not drill.timeline.steps()[0].ok  # the runbook says it did not pass
    assert not list(Path(tempfile.gettempdir()).glob(f"drills-{run_id}-*"))
