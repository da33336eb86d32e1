"""`verify: restore` on the bot's daily dump (seed 002, local runtime): the dump restored into a
scratch PostgreSQL by the team's own pg_restore script before the fault, the plan's SQL check
run there (issue 19, item 5)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import REPO, drill_cli
from tests.integration.test_own_stack import rows, scenarios_of

pytestmark = pytest.mark.slow


def _bot_service(tmp_path: Path, omit_leads: bool = False) -> Path:
    example = tmp_path / "bot-service"
    shutil.copytree(REPO / "examples" / "bot-service", example)
    plan = example / "drill-plan.yaml"
    text = plan.read_text()
    assert "    compressed_to: 5s\n" in text
    plan.write_text(text.replace("    compressed_to: 5s\n",
                                 "    compressed_to: 5s\n    verify: restore\n", 1))
    if omit_leads:  # the dump leaves out the table the plan's `SELECT count(*) FROM leads` reads
        backup = example / "scripts" / "backup-db.sh"
        backup.write_text(backup.read_text().replace("  --format=custom \\\n",
                                                     "  --format=custom -T leads \\\n"))
        assert "-T leads" in backup.read_text()
    return plan


def _run(tmp_path: Path, plan: Path, tag: str) -> tuple[int, dict[str, Any], str]:
    run_id = f"itest-{tag}-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(plan), "--runtime", "local",
                     "--out", str(tmp_path / "out"), "--run-id", run_id,
                     "--scenario", "postgres-loss", timeout=900)
    # the scratch server went with the run: no directory of the run is left
    assert not list(Path(tempfile.gettempdir()).glob(f"drills-{run_id}-*"))
    loss = scenarios_of(tmp_path / "out" / run_id)["postgres-loss"]
    return done.returncode, loss, done.stdout[-3000:] + done.stderr[-3000:]


def test_a_rehearsed_restore_passes_with_its_time(tmp_path: Path) -> None:
    code, loss, output = _run(tmp_path, _bot_service(tmp_path), "rehearse")
    # the bot's plan promises an RPO of 15 min on a daily dump: only that row fails
    assert code == 1, output
    assert {t["key"] for t in loss["targets"] if t["verdict"] != "pass"} == {"plan.rpo"}
    row = rows(loss)["backup.daily-dump.rehearsal"]
    assert row["verdict"] == "pass", row
    assert row["title"] == "backup daily-dump restore rehearsal"
    assert row["measured"].startswith("restored in ")
    assert "1 of 1 checks pass; 1 of 1 tables with their rows" in row["measured"]
    assert 0 < row["measured_value"] < 60


def test_a_rehearsal_catches_a_dump_without_the_checked_table(tmp_path: Path) -> None:
    code, loss, output = _run(tmp_path, _bot_service(tmp_path, omit_leads=True), "omit")
    assert code == 1, output
    row = rows(loss)["backup.daily-dump.rehearsal"]
    assert row["verdict"] == "fail", row
    assert "check `SELECT count(*) FROM leads` >= 3 failed there" in row["reason"]
    assert "missing in the scratch server: leads" in row["reason"]
    assert "REHEARSAL_FAILED" in {f["code"] for f in loss["findings"]}
