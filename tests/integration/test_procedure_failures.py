"""Issue 20 item 5: a team's backup or setup procedure that fails fails the drill.

A version 2 plan on drills' own PostgreSQL (local runtime, one server): its backup script
exits 1, or its setup script does. Both used to end "could not verify" (exit 1 too, but
as if drills could not measure); now the verdict is fail, with BACKUP_FAILED or
SETUP_FAILED and the script's last lines of output in the row's reason.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import drill_cli

pytestmark = pytest.mark.slow

PLAN = """version: 2
name: a team's procedures that fail
stack:
  services:
    db: {kind: postgres}
  setup: [seed]
backups:
  nightly:
    service: db
    procedure: backup
    every: 1h
    compressed_to: 2s
procedures:
  seed: {run: [scripts/seed.sh]}
  backup:
    run: [scripts/backup.sh]
    env: {BACKUP_DIR: "{backup_dir}"}
    timeout: 1m
  restore: {run: [scripts/restore.sh, "{latest:nightly}"]}
targets:
  db: {rto: 30m, rpo: 2h}
scenarios:
  loss:
    fault: {lose_server: db}
    recovery:
      - provision: db
      - procedure: restore
    checks:
      - ledger: db
"""
OK = "#!/bin/sh\nexit 0\n"
FAILS = ("#!/bin/sh\necho \"{what} into ${{BACKUP_DIR:-the database}}\"\n"
         "echo \"{error}\" >&2\nexit 1\n")


def write_plan(where: Path, failing: str, error: str) -> Path:
    (where / "scripts").mkdir(parents=True)
    for name in ("seed", "backup", "restore"):
        script = where / "scripts" / f"{name}.sh"
        script.write_text(FAILS.format(what=name, error=error) if name == failing else OK)
        script.chmod(0o755)
    plan = where / "plan.yaml"
    plan.write_text(PLAN)
    return plan


def run_loss(tmp_path: Path, failing: str, error: str) -> tuple[int, str, dict[str, Any]]:
    plan = write_plan(tmp_path / "team", failing, error)
    run_id = f"itest-{failing}-fails-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(plan), "--runtime", "local", "--out",
                     str(tmp_path / "out"), "--run-id", run_id, timeout=300)
    summary = json.loads((tmp_path / "out" / run_id / "summary.json").read_text())
    scenario = next(s for s in summary["scenarios"] if s["name"] == "loss")
    return done.returncode, done.stdout[-3000:] + done.stderr[-3000:], scenario


def rows(scenario: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in scenario["targets"]}


def test_a_backup_script_that_exits_1_fails_the_drill_with_its_log_tail(
        tmp_path: Path) -> None:
    error = "pg_dump: error: connection to server failed: password authentication failed"
    code, output, scenario = run_loss(tmp_path, "backup", error)
    assert code == 1, output
    assert scenario["verdict"] == "fail", scenario["targets"]  # was "could not verify"
    row = rows(scenario)["backup.nightly.procedure"]
    assert row["verdict"] == "fail" and row["measured"].startswith("exit 1 after")
    assert row["reason"].startswith("backups.nightly: procedure backup (")
    assert "the backup did not happen" in row["reason"]
    assert "backup into " in row["reason"] and row["reason"].endswith(error)  # the log tail
    assert "BACKUP_FAILED" in {f["code"] for f in scenario["findings"]}
    assert "BACKUP_UNUSABLE" not in {f["code"] for f in scenario["findings"]}


def test_a_setup_script_that_exits_1_fails_the_drill(tmp_path: Path) -> None:
    error = "psql:migrations/001.sql:3: ERROR:  relation 'orders' already exists"
    code, output, scenario = run_loss(tmp_path, "seed", error)
    assert code == 1, output
    assert scenario["verdict"] == "fail", scenario["targets"]
    row = rows(scenario)["setup.seed"]
    assert row["verdict"] == "fail" and row["reason"].startswith("stack.setup: procedure seed")
    assert row["reason"].endswith(error)
    assert "SETUP_FAILED" in {f["code"] for f in scenario["findings"]}
