"""The Drill's own contract on real servers: a sealed result, nothing leaked, the real runtime."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from drills.drill import Drill
from drills.errors import StackError, UnknownKind
from drills.kinds.postgres.settings import PostgresSettings
from drills.measure.evaluate import evaluate
from drills.plan import load_plan
from drills.runtime import choose
from drills.runtime.local import LocalRuntime
from drills.scenarios.test_postgres_kill import run_postgres_kill
from tests.integration.conftest import labelled

pytestmark = pytest.mark.slow

pytest_plugins = ["pytester"]

SHORT_PLAN = """
defaults:
  workload: {users: 2, warmup: 1s, hold: 500ms}
scenarios:
  postgres-kill:
    targets: {rto: 30s, rpo: 0s, max_lost_writes: 0}
"""


def short_drill(tmp_path: Path, run_id: str, runtime: str = "local") -> Drill:
    path = tmp_path / "plan.yaml"
    path.write_text(SHORT_PLAN)
    plan = load_plan(path)
    return Drill(plan.scenario("postgres-kill"), plan, run_id, tmp_path / "out",
                 choose.factory(runtime))


def workdirs(run_id: str) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"drills-{run_id}-*"))


def test_the_result_is_sealed_at_the_conclusion(tmp_path: Path) -> None:
    drill = short_drill(tmp_path, "itest-sealed")
    run_postgres_kill(drill, synchronous_commit=True)
    result = drill.conclude()
    sealed = (drill.files.root / "result.json").read_text()
    # an error after the conclusion (in the test's own code) must not change the verdict
    # the assertion saw; before issue 6, close() evaluated again and overwrote it
    after = drill.close(RuntimeError("raised by test code after conclude()"))
    assert after is result
    assert (drill.files.root / "result.json").read_text() == sealed
    journal = json.loads(drill.files.journal.read_text())
    kinds = [(e["kind"], e["name"]) for e in journal["events"]]
    done = kinds.index(("check.done", "check done"))
    assert ("step.start", "stack down") in kinds[done:]  # the teardown is on the record...
    assert ("error", "drill error") in kinds[done:]
    assert evaluate(drill.files).to_dict() == result.to_dict()  # ...and changes no figure
    assert workdirs("itest-sealed") == []


def test_a_failure_while_building_services_leaks_nothing(tmp_path: Path) -> None:
    # before issue 6 the runtime was registered for clean-up only once its services were
    # built: a bad service left the run's directory (and on compose a Docker client) behind
    drill = short_drill(tmp_path, "itest-leak-local")
    with pytest.raises(UnknownKind, match="known kinds: postgres, redis"):
        drill.stack(postgres=PostgresSettings(), mongo=object())
    drill.close()
    assert workdirs("itest-leak-local") == []


@pytest.mark.compose
def test_a_failure_while_building_compose_services_leaks_nothing(tmp_path: Path) -> None:
    drill = short_drill(tmp_path, "itest-leak-compose", runtime="compose")
    with pytest.raises(StackError, match="cannot be used"):
        drill.stack(**{"Bad Name": PostgresSettings()})
    drill.close()
    assert workdirs("itest-leak-compose") == []
    assert labelled("itest-leak-compose") == []


def test_a_runtime_closes_once(tmp_path: Path) -> None:
    runtime = LocalRuntime("itest-close-twice", tmp_path / "logs")
    runtime.close()
    runtime.close()
    assert not runtime.workdir.exists()


def drill_session(pytester: pytest.Pytester, tmp_path: Path, runtime: str, run_id: str,
                  after_procedure: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    """A pytest session of one short postgres-kill drill; its outcome and its summary.json."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(SHORT_PLAN)
    pytester.makepyfile(test_scenario=f"""
import pytest
from drills.scenarios.test_postgres_kill import run_postgres_kill

@pytest.mark.drill("postgres-kill")
def test_kill(drill):
    run_postgres_kill(drill, synchronous_commit=True)
    {after_procedure}
""")
    out = tmp_path / "reports"
    result = pytester.runpytest_subprocess(
        f"--drill-plan={plan}", f"--drill-out={out}", f"--drill-runtime={runtime}",
        f"--drill-run-id={run_id}", "-p", "no:locust", "-p", "no:cacheprovider", timeout=300)
    return result, json.loads((out / run_id / "summary.json").read_text())


def test_the_summary_names_the_runtime_the_scenarios_ran_on(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytester gives the session a HOME of its own: keep the real Compose plugin in sight
    monkeypatch.setenv("DOCKER_CONFIG", os.environ.get("DOCKER_CONFIG")
                       or str(Path.home() / ".docker"))
    result, summary = drill_session(pytester, tmp_path, "auto", "itest-auto",
                                    "drill.conclude()")
    result.assert_outcomes(passed=1)
    ran_on = summary["scenarios"][0]["runtime"]
    assert ran_on in ("local", "compose")
    assert summary["runtime"] == ran_on  # before: "auto"
    assert summary["runtime_requested"] == "auto"


def test_an_assert_in_the_procedure_never_leaves_a_pass(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    # before issue 6 an AssertionError was not recorded as the drill's error: the drill
    # was read back and sealed as if the procedure had finished, and could read "pass"
    result, summary = drill_session(
        pytester, tmp_path, "local", "itest-assert",
        'assert False, "a check of the procedure failed before the conclusion"')
    result.assert_outcomes(failed=1)
    assert summary["scenarios"][0]["verdict"] == "could not verify"
    assert any("a check of the procedure failed" in e for e in summary["scenarios"][0]["errors"])
