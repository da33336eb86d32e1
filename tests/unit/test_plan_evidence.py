"""The plan's evidence settings: regression limits (defaults, per scenario, off) and controls."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.errors import PlanError
from drills.plan import load_plan
from drills.plan.model import RegressionLimits

PLAN = """\
version: {version}
name: t
defaults:
  regression: {{rto: 30%, runs: 3, margin: 1s}}
scenarios:
  postgres-freeze:
    targets: {{rto: 10s}}
    controls: ["ISO27001:A.8.13", SOC2:A1.3]
  postgres-kill:
    targets: {{rto: 10s}}
    regression: {{rpo: 10%}}
  redis-kill:
    targets: {{rto: 10s}}
    regression: ~
"""


@pytest.mark.parametrize("version", [1, 2])
def test_defaults_scenario_overrides_and_off(tmp_path: Path, version: int) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.format(version=version))
    plan = load_plan(path)
    assert plan.scenarios["postgres-freeze"].regression == RegressionLimits(0.3, None, 3, 1.0)
    assert plan.scenarios["postgres-kill"].regression == RegressionLimits(0.3, 0.1, 3, 1.0)
    assert plan.scenarios["redis-kill"].regression is None
    assert plan.scenarios["postgres-freeze"].controls == ("ISO27001:A.8.13", "SOC2:A1.3")
    assert plan.scenarios["postgres-kill"].controls == ()
    recorded = plan.scenarios["postgres-freeze"].to_dict()
    assert recorded["regression"]["rto"] == 0.3 and recorded["controls"][1] == "SOC2:A1.3"


@pytest.mark.parametrize(("entry", "key", "says"), [
    ("regression: {rto: 30}", "regression.rto", "write a percentage"),
    ("regression: {rto: '-5%'}", "regression.rto", "at least 0"),
    ("regression: {}", "regression", "give rto and/or rpo"),
    ("regression: {rto: 30%, runs: 0}", "regression.runs", "at least 1"),
    ("regression: {rto: 30%, median_of: 5}", "regression.median_of", "unknown key"),
    ("regression: 30%", "regression", "must be a mapping"),
    ("controls: []", "controls", "list of control ids"),
    ("controls: [SOC2:A1.3, SOC2:A1.3]", "controls[1]", "listed twice"),
    ("controls: ['']", "controls[0]", "1 to 100 characters"),
])
def test_bad_evidence_settings_name_the_key(tmp_path: Path, entry: str, key: str,
                                           says: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(f"scenarios:\n  postgres-kill:\n    targets: {{rto: 10s}}\n    {entry}\n")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert f"scenarios.postgres-kill.{key}" in str(caught.value)
    assert says in str(caught.value)


def test_the_default_plan_sets_regression_limits_and_controls() -> None:
    plan = load_plan(None)
    assert all(s.regression is not None for s in plan.scenarios.values())
    assert "ISO27001:A.8.13" in plan.scenarios["postgres-restore-dump"].controls
