"""Issue 20 item 5: a team's backup or setup procedure that fails fails the drill.

It used to end "could not verify" (the row "drill procedure"), as if drills had not been
able to measure: the backup did not happen, and that is a finding about the plan's own
runbook (BACKUP_FAILED, SETUP_FAILED), with the procedure's outcome and its log tail.
What drills itself could not do stays "could not verify".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drills.errors import BackupProcedureFailed, RecoveryError, RecoveryProcedureFailed
from drills.measure.evaluate import DrillResult, evaluate
from drills.measure.findings import CATALOGUE, Finding, Severity
from drills.measure.step_failures import failed_steps, unexplained
from drills.measure.verdict import Verdict
from drills.plan.procedure_spec import Procedure
from drills.procedures.context import ProcedureContext
from drills.record.clock import Instant
from drills.record.timeline import Category, EventKind, Step
from drills.recovery.procedure import RunProcedure
from tests.synthetic import make_scenario_dir
from tests.unit.test_backup_content import drill, job
from tests.unit.test_restore import by_key, codes, insert

FAILS = 'echo "dumping shop..."; echo "pg_dump: error: connection to server refused" >&2; exit 1'


def step(category: Category, **data: Any) -> Step:
    now = Instant.now()
    return Step("a step", category, now, now, False, data)


def facts(procedure: str, outcome: str = "exit 1 after 0.02 s", **more: Any) -> dict[str, Any]:
    return {"procedure": procedure, "outcome": outcome, "log_tail": "pg_dump: error: refused",
            "command": {"procedure": procedure, "argv": [f"scripts/{procedure}.sh"],
                        "log": f"{procedure}.log", "duration_s": 0.02, "exit_code": 1},
            **more}


# -- the rows, from the steps ---------------------------------------------------------


def test_a_failed_backup_procedure_is_a_fail_row_with_its_log_tail() -> None:
    found: list[Finding] = []
    rows = failed_steps([step(Category.BACKUP, job="nightly", **facts("backup"))], found)
    assert len(rows) == 1
    row = rows[0]
    assert (row.key, row.verdict, row.measured) == ("backup.nightly.procedure", Verdict.FAIL,
                                                    "exit 1 after 0.02 s")
    assert row.reason.startswith("backups.nightly: procedure backup (scripts/backup.sh) "
                                 "failed: exit 1 after 0.02 s; the backup did not happen")
    assert row.reason.endswith("last lines of logs/backup.log:\npg_dump: error: refused")
    assert [f.code for f in found] == ["BACKUP_FAILED"] and found[0].message == row.reason


def test_a_backup_procedure_killed_at_its_timeout_fails_the_same_way() -> None:
    found: list[Finding] = []
    outcome = "killed after its timeout of 300 s"
    row, = failed_steps([step(Category.BACKUP, job="nightly",
                              **facts("backup", outcome))], found)
    assert row.verdict == Verdict.FAIL and row.measured == outcome
    assert f"failed: {outcome}; the backup did not happen" in row.reason
    assert [f.code for f in found] == ["BACKUP_FAILED"]


def test_a_failed_setup_procedure_is_a_fail_row() -> None:
    found: list[Finding] = []
    row, = failed_steps([step(Category.SETUP, **facts("seed"))], found)
    assert (row.key, row.title, row.verdict) == ("setup.seed", "setup procedure seed",
                                                 Verdict.FAIL)
    assert row.reason.startswith("stack.setup: procedure seed (scripts/seed.sh) failed: exit 1")
    assert "the drill stopped before any load" in row.reason
    assert row.reason.endswith("logs/seed.log:\npg_dump: error: refused")
    assert [f.code for f in found] == ["SETUP_FAILED"]


def test_a_procedure_that_could_not_start_names_why_and_has_no_tail() -> None:
    found: list[Finding] = []
    why = "cannot run scripts/seed.sh: Permission denied (make it executable: chmod +x)"
    row, = failed_steps([step(Category.SETUP, procedure="seed", outcome=why, log_tail="")],
                        found)
    assert row.reason == f"stack.setup: procedure seed failed: {why}; the drill stopped " \
        "before any load"


def test_the_drills_own_failures_are_not_the_teams() -> None:
    """A built-in backup, a rehearsal, a recovery step: judged elsewhere, not here."""
    found: list[Finding] = []
    steps = [
        step(Category.BACKUP, error="BackupError: pg_dump: not found", method="pg_dump -Fc"),
        step(Category.BACKUP, rehearsal="nightly", **facts("restore")),
        step(Category.SETUP, error="StackError: db was not ready"),
        step(Category.RECOVERY, **facts("restore")),
    ]
    assert failed_steps(steps, found) == [] and found == []
    ok = Step("procedure seed", Category.SETUP, Instant.now(), Instant.now(), True,
              facts("seed"))
    assert failed_steps([ok], found) == []


def test_both_findings_are_catalogued_with_advice() -> None:
    assert CATALOGUE["BACKUP_FAILED"].severity is Severity.CRITICAL
    assert CATALOGUE["SETUP_FAILED"].severity is Severity.ERROR
    assert "logs/" in CATALOGUE["BACKUP_FAILED"].advice
    assert "stack.setup" in CATALOGUE["SETUP_FAILED"].advice


# -- the procedures say what happened ---------------------------------------------------


def test_a_backup_procedure_that_exits_1_raises_with_its_facts(tmp_path: Path) -> None:
    with pytest.raises(BackupProcedureFailed) as failed:
        job(tmp_path, FAILS).take("nightly-1")
    assert failed.value.facts["job"] == "nightly"
    assert failed.value.facts["procedure"] == "backup"
    assert failed.value.facts["outcome"].startswith("exit 1 after")
    assert "pg_dump: error: connection to server refused" in failed.value.facts["log_tail"]
    assert failed.value.facts["command"]["exit_code"] == 1


def test_a_backup_procedure_past_its_timeout_raises_with_its_facts(tmp_path: Path) -> None:
    slow = job(tmp_path, "sleep 30")
    slow.procedure = Procedure("backup", ("sh", "-c", "echo started; sleep 30"), tmp_path,
                               {}, 0.3)
    with pytest.raises(BackupProcedureFailed) as failed:
        slow.take("nightly-1")
    assert failed.value.facts["outcome"].startswith("killed after its timeout")
    assert failed.value.facts["command"]["timed_out"] is True
    assert failed.value.facts["log_tail"] == "started"


def test_a_backup_procedure_that_cannot_start_raises_with_the_job(tmp_path: Path) -> None:
    script = tmp_path / "backup.sh"
    script.write_text("#!/bin/sh\nexit 0\n")  # not executable
    missing = job(tmp_path)
    missing.procedure = Procedure("backup", (str(script),), tmp_path, {}, 5.0)
    with pytest.raises(BackupProcedureFailed) as failed:
        missing.take("nightly-1")
    assert failed.value.facts["job"] == "nightly"
    assert "chmod +x" in failed.value.facts["outcome"]


def test_a_setup_procedure_that_exits_1_raises_with_its_facts(tmp_path: Path) -> None:
    ctx = ProcedureContext(run_dir=tmp_path, logs_dir=tmp_path / "logs", services={})
    seed = RunProcedure(Procedure("seed", ("sh", "-c", "echo 'ERROR: relation exists'; "
                                           "exit 3"), tmp_path, {}, 5.0), ctx)
    with pytest.raises(RecoveryProcedureFailed) as failed:
        seed.run(5.0)
    assert isinstance(failed.value, RecoveryError)  # what callers catch, as before
    assert failed.value.facts["outcome"].startswith("exit 3 after")
    assert failed.value.facts["log_tail"] == "ERROR: relation exists"


# -- through the drill and its verdict --------------------------------------------------


def _concluded(run: Any, error: BaseException) -> DrillResult:
    result: DrillResult = run.close(error)
    return result


def test_a_drill_whose_backup_procedure_fails_fails_with_backup_failed(
        tmp_path: Path) -> None:
    """Was "could not verify" (the row "drill procedure"): the backup did not happen."""
    run = drill(tmp_path)
    with pytest.raises(BackupProcedureFailed) as failed:
        run.backup(job(tmp_path, FAILS))
    result = _concluded(run, failed.value)
    assert result.verdict == Verdict.FAIL, [c.to_dict() for c in result.checks]
    row = by_key(result, "backup.nightly.procedure")
    assert row.verdict == Verdict.FAIL and row.measured.startswith("exit 1 after")
    assert "pg_dump: error: connection to server refused" in row.reason
    assert "BACKUP_FAILED" in codes(result) and "BACKUP_UNUSABLE" not in codes(result)


def test_a_drill_whose_setup_procedure_fails_fails_with_setup_failed(tmp_path: Path) -> None:
    run = drill(tmp_path)
    ctx = ProcedureContext(run_dir=tmp_path, logs_dir=tmp_path / "logs", services={})
    seed = RunProcedure(Procedure("seed", ("sh", "-c", "echo 'psql: FATAL: no database'; "
                                           "exit 2"), tmp_path, {}, 5.0), ctx)
    with pytest.raises(RecoveryProcedureFailed) as failed:
        run.setup_step(seed)
    result = _concluded(run, failed.value)
    assert result.verdict == Verdict.FAIL
    row = by_key(result, "setup.seed")
    assert row.verdict == Verdict.FAIL and "psql: FATAL: no database" in row.reason
    assert "SETUP_FAILED" in codes(result)


def test_a_failed_backup_step_on_a_recorded_timeline_fails_the_verdict(
        tmp_path: Path) -> None:
    """From the journal alone (rule 9): the step's facts make the row."""
    files = make_scenario_dir(tmp_path, lost=0, targets={"rto_s": 30.0})
    cat = str(Category.BACKUP)
    name = "back up postgres (nightly-1)"
    insert(files,
           (EventKind.STEP_START, name, 9.0, {"category": cat, "service": "postgres",
                                             "method": "the team's procedure backup"}),
           (EventKind.STEP_END, name, 9.4, {"category": cat, "ok": False, "job": "nightly",
                                            "error": "BackupProcedureFailed: ...",
                                            **facts("backup")}))
    result = evaluate(files)
    assert by_key(result, "backup.nightly.procedure").verdict == Verdict.FAIL
    assert result.verdict == Verdict.FAIL and "BACKUP_FAILED" in codes(result)


def test_the_error_a_failed_procedure_ended_the_drill_with_is_not_said_twice() -> None:
    error = "BackupProcedureFailed: backup job nightly: procedure backup failed: exit 1"
    steps = [step(Category.BACKUP, job="nightly", error=error, **facts("backup"))]
    other = "WorkloadError: the load generator died"
    assert unexplained([error, other], steps) == [other]
    assert unexplained([error], [step(Category.BACKUP, error=error)]) == [error]  # built in
