"""The pytest plugin, through pytester: plan errors stop the session, unknown drills deselect."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

pytest_plugins = ["pytester"]

SCENARIO = """
import pytest

@pytest.mark.drill("postgres-kill")
def test_kill(drill):
    raise AssertionError("must not run")

def test_plain():
    pass
"""


def test_bad_plan_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_scenario=SCENARIO)
    plan = pytester.makefile(".yaml", plan="scenarios:\n  postgres-kill: {targets: {rto_s: 1}}\n")
    result = pytester.runpytest(f"--drill-plan={plan}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*plan.yaml: scenarios.postgres-kill.targets.rto_s: unknown key*"])


def test_scenario_missing_from_plan_is_deselected(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_scenario=SCENARIO)
    plan = pytester.makefile(".yaml", plan="scenarios:\n  redis-kill: {targets: {rto: 1m}}\n")
    result = pytester.runpytest(f"--drill-plan={plan}")
    result.assert_outcomes(passed=1, deselected=1)


def test_sessions_without_drills_stay_inert(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    pass\n")
    result = pytester.runpytest("--drill-plan=/does/not/exist.yaml")
    result.assert_outcomes(passed=1)


NO_STACK = """
import pytest

@pytest.mark.drill("postgres-kill")
def test_kill(drill):
    pass  # no stack: the drill concludes "could not verify", without any server
"""
PLAN = "scenarios:\n  postgres-kill: {targets: {rto: 30s, max_lost_writes: 0}}\n"


def test_a_runtime_that_cannot_run_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-engine.sock")
    pytester.makepyfile(test_scenario=SCENARIO)
    plan = pytester.makefile(".yaml", plan=PLAN)
    result = pytester.runpytest(f"--drill-plan={plan}", "--drill-runtime=compose",
                                f"--drill-out={pytester.path / 'out'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # before: INTERNALERROR (3)
    result.stderr.fnmatch_lines(["*--runtime compose cannot run: no Docker engine answers*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_run_directory_already_there_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_scenario=NO_STACK)
    plan = pytester.makefile(".yaml", plan=PLAN)
    taken = pytester.path / "out" / "r-same"
    taken.mkdir(parents=True)  # another run of this id got there first
    result = pytester.runpytest(f"--drill-plan={plan}", f"--drill-out={taken.parent}",
                                "--drill-run-id=r-same", "--drill-runtime=local")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # before: ran into the same directory
    result.stderr.fnmatch_lines(["*r-same: a run with this id is already there*"])
    assert list(taken.iterdir()) == []


DIES_WHILE_SEALING = """
import os
import drills.evidence.pack as pack

def _killed(*args, **kwargs):
    os._exit(9)  # as SIGKILL in the middle of sealing: no finally, no teardown

pack.build_manifest = _killed
"""


def test_a_run_killed_while_sealing_says_no_verdict(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(DIES_WHILE_SEALING)
    pytester.makepyfile(test_scenario=NO_STACK)
    plan = pytester.makefile(".yaml", plan=PLAN)
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(f"--drill-plan={plan}", f"--drill-out={out}",
                                           "--drill-run-id=r-killed", "--drill-runtime=local",
                                           "-p", "no:locust", timeout=120)
    assert result.ret == 9  # killed where the manifest was to be written
    run_dir = out / "r-killed"
    assert (run_dir / "postgres-kill" / "journal.json").is_file()  # it did reach sealing
    left = {p.name for p in run_dir.iterdir()}
    # before: summary.json and junit.xml stated a verdict for a pack never sealed
    assert not left & {"summary.json", "junit.xml", "metrics.prom", "index.html", "runbook.md",
                       "manifest.json"}, left
