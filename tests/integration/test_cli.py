"""The drill command's contract: exit codes, messages, and `drill clean`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import drill_cli


def test_typo_in_plan_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("scenarios:\n  postgres-kill:\n    targets: {rto: 30s, rpo_ms: 0}\n")
    done = drill_cli("run", "--plan", str(plan), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert f"{plan}: scenarios.postgres-kill.targets.rpo_ms: unknown key" in done.stderr
    assert not (tmp_path / "out").exists()  # nothing started


def test_a_plan_that_leaves_loss_by_design_unjudged_exits_2(tmp_path: Path) -> None:
    """Issue 19: `{rto: 30s}` on postgres-kill-async-commit ran to "pass" with 51 writes lost."""
    plan = tmp_path / "plan.yaml"
    plan.write_text("scenarios:\n  postgres-kill-async-commit:\n    targets: {rto: 30s}\n")
    for command in (("check", str(plan)), ("run", "--plan", str(plan), "--out",
                                           str(tmp_path / "out"))):
        done = drill_cli(*command)
        assert done.returncode == 2, done.stdout + done.stderr
        assert (f"{plan}: scenarios.postgres-kill-async-commit.targets: "
                "postgres-kill-async-commit loses acknowledged writes by design") in done.stderr
        assert not (tmp_path / "out").exists()


def test_unknown_scenario_exits_2(tmp_path: Path) -> None:
    done = drill_cli("run", "--scenario", "postgres-kil", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "scenarios.postgres-kil" in done.stderr and "postgres-kill" in done.stderr


@pytest.mark.parametrize(("args", "env", "says"), [
    (["run", "--plan", ""], {}, "plan path is empty"),
    (["run", "--out", "/etc/hostname"], {}, "exists and is not a directory"),
    (["run", "--out", "/proc/drills-cannot-be-here"], {}, "cannot create it"),
    (["run", "--scenarios", "/nonexistent-scenarios"], {}, "no such directory"),
    (["run"], {"DRILLS_RUNTIME": "bogus"}, "unknown runtime 'bogus'"),
    (["run", "--runtime", "bogus"], {}, "unknown runtime 'bogus'"),
    (["run"], {"DRILLS_IMAGES": "bogus"}, "DRILLS_IMAGES=bogus"),
    (["report", "/nonexistent-run"], {}, "no such run directory"),
])
def test_bad_input_exits_2_before_anything_starts(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    if "DRILLS_IMAGES" in env:
        args = [*args, "--runtime", "compose"]
    done = drill_cli(*args, env={"DRILLS_OUT": str(tmp_path / "out"), **env}, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_report_on_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    done = drill_cli("report", str(tmp_path))
    assert done.returncode == 2
    assert "no summary.json" in done.stderr


@pytest.mark.slow
def test_a_plan_gap_fails_the_run_unless_accepted(tmp_path: Path) -> None:
    """Issue 20: `drill check` called the plan impossible (exit 1); `drill run` exited 0."""
    import json

    plan = tmp_path / "plan.yaml"
    text = ("scenarios:\n  postgres-restore-dump:\n    backup: {every: 24h}\n"
            "    targets: {rto: 1m, rpo: 6h, discard_window: 1s}\n")
    accepted = ("    accept:\n      - {target: rpo, reason: the hourly disk snapshots bound "
                "the loss, by: DBA lead, until: '2999-12-31'}\n")
    for extra, code in (("", 1), (accepted, 0)):
        plan.write_text(text + extra)
        out = tmp_path / f"out{code}"
        assert drill_cli("check", str(plan)).returncode == code
        done = drill_cli("run", "--plan", str(plan), "--out", str(out), "--runtime", "local",
                         timeout=600)
        assert done.returncode == code, done.stdout[-2000:] + done.stderr[-2000:]
        [run] = [p for p in out.iterdir() if p.is_dir()]
        summary = json.loads((run / "summary.json").read_text())
        [row] = [t for t in summary["scenarios"][0]["targets"] if t["key"] == "plan.rpo"]
        assert row["verdict"] == ("pass" if code == 0 else "fail"), row
        assert row["resolution"] == "projection, not measured"


def test_a_procedure_aiming_at_another_project_is_refused_before_anything_starts(
        tmp_path: Path) -> None:
    """Issue 21: a procedure's env set COMPOSE_PROJECT_NAME=shop-prod, and the script's
    `docker compose` acted on the team's real project."""
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 2\nstack:\n  services:\n    db: {kind: postgres}\n"
                    "procedures:\n  fix: {run: [sh, -c, 'docker compose ps'], "
                    "env: {COMPOSE_PROJECT_NAME: shop-prod}}\n"
                    "scenarios:\n  crash:\n    fault: {kill: db}\n"
                    "    recovery: [{restart: db}, {procedure: fix}]\n"
                    "    targets: {rto: 1m}\n")
    out = tmp_path / "out"
    done = drill_cli("run", "--plan", str(plan), "--out", str(out), "--runtime", "local",
                     timeout=120)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{plan}: procedures.fix.env.COMPOSE_PROJECT_NAME" in done.stderr
    assert "Traceback" not in done.stderr
    assert "drill: run " not in done.stdout  # never got as far as starting
    assert not out.exists() or not any(out.iterdir())
