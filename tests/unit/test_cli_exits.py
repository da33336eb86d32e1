"""Exit codes that gate: `drill report` by the verdict it rebuilt, `drill clean` by what it
could not remove (what it keeps on purpose is no failure), and a run directory claimed in
one step.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from drills import cli
from drills.errors import UsageError
from drills.measure.evaluate import evaluate
from drills.report import write_reports
from drills.stack.ownership import Owner, process_start_ticks
from drills.stack.workdir import OWNER_FILE
from tests.synthetic import META, make_scenario_dir


@pytest.mark.parametrize(("lost", "code", "says"), [(0, 0, "drill: pass"),
                                                     (4, 1, "drill: fail")])
def test_report_exits_by_the_verdict_it_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lost: int, code: int, says: str
) -> None:
    run_dir = tmp_path / "run"
    results = [evaluate(make_scenario_dir(run_dir, "pg-kill", lost=lost))]
    write_reports(run_dir, results, {**META, "planned": ["pg-kill"]})
    assert cli.main(["report", str(run_dir)]) == code  # before: 0 whatever the verdict
    assert says in capsys.readouterr().out


def test_report_on_a_run_stopped_while_sealing_is_no_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    make_scenario_dir(run_dir, "pg-kill", lost=0)  # journals, and no report at all
    assert cli.main(["report", str(run_dir)]) == 1
    assert "stopped before it sealed its evidence pack" in capsys.readouterr().err


def _dead_owner() -> Owner:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    start = process_start_ticks(proc.pid)
    proc.kill()
    proc.wait()
    assert start is not None
    return dataclasses.replace(Owner.current(), pid=proc.pid, start=start)


def _workdir(tmp: Path, name: str, owner: Owner) -> Path:
    path = tmp / f"drills-{name}-abc"
    path.mkdir(mode=0o711)
    record = path / OWNER_FILE
    record.write_text(json.dumps({"run_id": name, "owner": owner.to_dict()}))
    record.chmod(0o600)
    return path


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`drill clean` in a temporary directory of its own, and no Docker engine to ask."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    return tmp_path


def test_clean_exits_1_when_something_could_not_be_removed(
    no_engine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    crashed = _workdir(no_engine, "crashed", _dead_owner())
    real_rmtree = shutil.rmtree

    def stuck(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path) != crashed:  # a file in use, a mount point: it stays
            real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", stuck)
    assert cli.main(["clean"]) == 1  # before: 0
    out = capsys.readouterr()
    assert f"could not remove all of {crashed}" in out.out
    assert "1 thing(s) could not be removed" in out.err


def test_clean_exits_0_when_it_keeps_only_what_is_not_provably_dead(
    no_engine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crashed = _workdir(no_engine, "crashed", _dead_owner())
    live = _workdir(no_engine, "live", Owner.current())
    assert cli.main(["clean"]) == 0
    out = capsys.readouterr().out
    assert not crashed.exists() and live.exists()
    assert f"kept {live}: its drill process" in out
    assert "kept 1 thing(s) not provably left by a dead run, on purpose" in out
    assert "not a failure" in out


def test_a_run_directory_is_claimed_in_one_step(tmp_path: Path) -> None:
    from drills.config import claim_run_dir

    run_dir = tmp_path / "reports" / "r-1"
    claim_run_dir(run_dir)
    assert run_dir.is_dir()
    with pytest.raises(UsageError, match="a run with this id is already there"):
        claim_run_dir(run_dir)  # the second of two runs started at once with this id


def test_a_disk_too_full_for_a_drill_is_named(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: a disk with 1 MB free ended a run with "no drill ran"."""
    from drills import config as config_module

    usage = shutil.disk_usage(tmp_path)
    assert config_module.disk_short(tmp_path) == ""  # the test machine has room
    monkeypatch.setattr(config_module.shutil, "disk_usage",
                        lambda _: usage._replace(free=1_000_000))
    assert "1.0 MB free" in config_module.disk_short(tmp_path)
    with pytest.raises(UsageError, match=r"--out .*: the disk holding it has 1\.0 MB free"):
        config_module.prepare_out_dir(tmp_path / "out")
    # a disk that fills during the run: said so, not "no drill ran"
    said = cli.no_verdict(tmp_path, tmp_path / "run", 1)
    assert "the disk filled up" in said and "no drill ran" not in said


def test_check_takes_the_plan_as_run_does_or_as_its_argument(
        capsys: pytest.CaptureFixture[str]) -> None:
    from drills.plan import default_plan_path

    storage = str(default_plan_path().with_name("storage.yaml"))
    for args in (["check", storage], ["check", "--plan", storage],
                 ["check", storage, "--plan", storage]):
        assert cli.main(args) == 0, args
        assert capsys.readouterr().out.rstrip().endswith(f"{storage}: valid, no contradiction")
    assert cli.main(["check"]) == 0  # no plan: the one shipped with drills, as for run
    assert str(default_plan_path()) in capsys.readouterr().out
    assert cli.main(["check", storage, "--plan", str(default_plan_path())]) == 2
    assert "two plans given" in capsys.readouterr().err
