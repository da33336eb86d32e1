"""The scenarios a version 2 plan spells out (fault, recovery, checks): one test each.

The plugin generates one test per such scenario of the plan (``plan_scenario``); the
steps are run by drills.plan_drill, in the order ``drill check`` prints.
"""

from drills import Drill, Verdict
from drills.plan_drill import run_plan_scenario


def test_plan_scenario(drill: Drill, plan_scenario: str) -> None:
    assert drill.scenario.name == plan_scenario
    run_plan_scenario(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
