"""The pytest plugin, through pytester: plan errors stop the session, unknown drills deselect."""

from __future__ import annotations

import pytest

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
