"""The GitHub Actions example (examples/github-actions/drill-gate.yml): actionlint passes it.

actionlint (built by scripts/setup.sh into .venv/bin) checks the workflow's syntax, its
expressions and contexts, the inputs of the actions it uses, and runs shellcheck on every
``run:`` script. A missing actionlint or shellcheck fails the test: a check that could not
run is not a pass.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-actions" / "drill-gate.yml"


def actionlint() -> str:
    """The actionlint next to this Python (.venv/bin), else the one on PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    if beside.is_file():
        return str(beside)
    found = shutil.which("actionlint")
    if found is None:
        pytest.fail(f"actionlint is missing (not in {beside.parent}, not on PATH): "
                    "run scripts/setup.sh, which builds it into .venv/bin/actionlint")
    return found


def shellcheck() -> str:
    """Shellcheck, which actionlint runs on the scripts; without it that rule is skipped."""
    found = shutil.which("shellcheck") or next(
        (p for p in ("/usr/bin/shellcheck", "/usr/local/bin/shellcheck") if Path(p).is_file()),
        None)
    if found is None:
        pytest.fail("shellcheck is missing: actionlint would skip the run: scripts "
                    "(apt-get install shellcheck)")
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    """Run actionlint on one workflow file, shellcheck on, one line per finding."""
    return subprocess.run(
        [actionlint(), "-no-color", "-oneline", "-shellcheck", shellcheck(), "-pyflakes=",
         str(path)],
        capture_output=True, text=True, timeout=120, check=False)


def test_actionlint_passes_the_example() -> None:
    done = lint(WORKFLOW)
    assert done.returncode == 0, (
        f"actionlint exited {done.returncode} on {WORKFLOW}:\n{done.stdout}{done.stderr}")


def broken_copy(tmp_path: Path, after: str, bad_line: str) -> tuple[Path, int]:
    """The example with ``bad_line`` inserted after the first line containing ``after``."""
    lines = WORKFLOW.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if after in line) + 1
    lines.insert(at, bad_line)
    copy = tmp_path / "drill-gate.yml"
    copy.write_text("\n".join(lines) + "\n")
    return copy, at + 1  # 1-based number of the inserted line


@pytest.mark.parametrize(("after", "bad_line", "says"), [
    # a key no step has (timeout-minutes is the real one)
    ("id: drill", "        timeout: 5", "unexpected key \"timeout\""),
    # an expression on a context that does not exist
    ("id: drill", "        if: always() && gihtub.event_name == 'schedule'", "gihtub"),
], ids=["unknown-step-key", "bad-expression"])
def test_actionlint_fails_a_broken_copy(tmp_path: Path, after: str, bad_line: str,
                                        says: str) -> None:
    copy, line = broken_copy(tmp_path, after, bad_line)
    done = lint(copy)
    out = done.stdout + done.stderr
    assert done.returncode != 0, f"actionlint passed a broken workflow:\n{out}"
    assert re.search(rf":{line}:\d+: .*{re.escape(says)}", out), (
        f"expected a finding naming line {line} ({says}):\n{out}")


def test_shellcheck_runs_on_the_scripts(tmp_path: Path) -> None:
    """An unquoted array in the gate's script is reported: shellcheck really ran."""
    text = WORKFLOW.read_text()
    assert 'drill run "${args[@]}"' in text
    copy = tmp_path / "drill-gate.yml"
    copy.write_text(text.replace('drill run "${args[@]}"', "drill run ${args[@]}"))
    done = lint(copy)
    out = done.stdout + done.stderr
    assert done.returncode != 0 and "SC2068" in out, f"shellcheck did not report SC2068:\n{out}"


def steps() -> list[dict[str, Any]]:
    """The steps of the workflow's one job."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    assert len(jobs) == 1, f"one job expected, found {sorted(jobs)}"
    found: list[dict[str, Any]] = next(iter(jobs.values()))["steps"]
    return found


def only(matching: list[dict[str, Any]], what: str) -> dict[str, Any]:
    assert len(matching) == 1, f"one {what} step expected, found {len(matching)}"
    return matching[0]


def test_the_gate_runs_drill_run_with_operator_and_run_id() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare on as true
    assert "workflow_dispatch" in triggers
    assert triggers["pull_request"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read"}
    assert "concurrency" in workflow
    job = next(iter(workflow["jobs"].values()))
    assert job["runs-on"] == "ubuntu-latest" and job["timeout-minutes"] > 0

    all_steps = steps()
    gate = only([s for s in all_steps if "drill run" in s.get("run", "")], "drill run")
    assert "--operator" in gate["run"] and "--run-id" in gate["run"]
    assert "--plan drill-plan.yaml" in gate["run"] and "--sign-key" in gate["run"]
    assert gate["env"]["OPERATOR"] == "${{ github.actor }}"
    assert "if" not in gate, "the gate must run, and fail the job on a non-zero exit"
    for step in all_steps:  # context goes through env:, never into a script's text
        assert "${{" not in step.get("run", ""), f"expression inline in run: {step['name']}"

    verify = only([s for s in all_steps if "drill verify" in s.get("run", "")], "drill verify")
    assert verify["if"].startswith("always()")
    assert all_steps.index(verify) > all_steps.index(gate)

    uploads = [s for s in all_steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(uploads) == 2
    for upload in uploads:
        assert upload["if"] == "always()", f"{upload['name']} must run after a failed gate"
        assert all_steps.index(upload) > all_steps.index(gate)
    evidence = only([u for u in uploads if u["with"]["path"].endswith("/")], "evidence upload")
    assert evidence["with"]["retention-days"] >= 365

    save = only([s for s in all_steps if s.get("uses", "").startswith("actions/cache/save@")],
                "runs database save")
    assert save["if"].startswith("always()")
    assert save["with"]["path"] == "reports/drills-runs.sqlite"
