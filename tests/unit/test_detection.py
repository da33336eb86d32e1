"""Detection as the plan says it happens (issue 20): a monitor, or a person; never silence.

An accidental DELETE behind a shallow /health ended "could not verify: nothing to detect"
beside an RTO row "pass, 0.000 s".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.errors import PlanError
from drills.measure.evaluate import evaluate
from drills.measure.plan_targets import DETECT_STEP
from drills.measure.verdict import Verdict
from drills.plan import load_plan
from drills.plan.scenario_spec import CheckKind
from drills.record.timeline import Category
from tests.synthetic import T_FAULT, make_scenario_dir
from tests.unit.test_plan_targets import add_step
from tests.unit.test_plan_v2 import PROCS, STACK, write

SCENARIO = """  oops:
    fault: {procedure: dump, service: db}
    recovery: [{procedure: restore}]
    targets: {rto: 1h, rpo: 25h, discard_window: 1m}
"""


def plan_with_detect(tmp_path: Path, detect: str) -> Path:
    return write(tmp_path, STACK + PROCS + "scenarios:\n" + SCENARIO
                 + (f"    detect: {detect}\n" if detect else ""))


def test_a_monitor_and_a_manual_detection_read(tmp_path: Path) -> None:
    plan = load_plan(plan_with_detect(
        tmp_path, '{monitor: {sql: "SELECT count(*) FROM orders", service: db, at_least: 2}, '
        "every: 500ms}"))
    detect = plan.scenario("oops").detect
    assert detect is not None and detect.monitor is not None
    assert detect.monitor.kind is CheckKind.SQL and detect.every_s == 0.5
    assert "until this monitor fails" in detect.describe()
    manual = load_plan(plan_with_detect(tmp_path, "{manual: support tickets pile up, "
                                                  "takes: 20m}")).scenario("oops").detect
    assert manual is not None and manual.takes_s == 1200.0


@pytest.mark.parametrize(("detect", "key", "says"), [
    ("{every: 1s}", "detect", "give one of monitor"),
    ("{manual: someone notices}", "detect.takes", "missing"),
    ("{monitor: {ledger: db}}", "detect.monitor", "a monitor is a sql, redis, http or command"),
    ('{monitor: {sql: "SELECT 1", service: db, at_least: 1}, takes: 1m}', "detect.takes",
     "measured, not stated"),
])
def test_bad_detections_are_refused(tmp_path: Path, detect: str, key: str, says: str) -> None:
    with pytest.raises(PlanError, match=f"scenarios.oops.{key}: .*{says}"):
        load_plan(plan_with_detect(tmp_path, detect))


def _undetected(tmp_path: Path, targets: dict[str, object]):  # type: ignore[no-untyped-def]
    files = make_scenario_dir(tmp_path, lost=0, targets=targets)
    add_step(files, DETECT_STEP, T_FAULT + 0.02, T_FAULT + 60.0, Category.RECOVERY)
    # the step as Drill.detect records it when nothing failed
    from drills.record.journal import load_journal, write_json
    from drills.record.timeline import Event, EventKind, Timeline

    journal = load_journal(files)
    journal.timeline = Timeline(tuple(
        Event(e.seq, e.kind, e.name, e.at, {**e.data, "ok": False, "error": "nothing failed"})
        if e.kind == EventKind.STEP_END and e.name == DETECT_STEP else e
        for e in journal.timeline.events))
    write_json(files.journal, journal.to_dict())
    return evaluate(files)


def test_damage_nothing_detects_is_never_an_rto_of_zero(tmp_path: Path) -> None:
    result = _undetected(tmp_path, {"rto_s": 30.0, "phases": {"detection": 60.0}})
    rto = next(c for c in result.checks if c.key == "rto_s")
    assert rto.verdict == Verdict.COULD_NOT_VERIFY and "nothing detected the damage" in rto.reason
    assert "detect: {monitor: CHECK}" in rto.reason
    phase = next(c for c in result.checks if c.key == "phase.detection")
    assert phase.verdict == Verdict.COULD_NOT_VERIFY
    assert not any(c.key == "recovery" for c in result.checks)  # not a failed recovery
    assert result.verdict != Verdict.PASS


def test_a_manual_detection_counts_as_stated_in_its_phase(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0,
                              targets={"rto_s": 1800.0, "phases": {"detection": 600.0}})
    add_step(files, DETECT_STEP, T_FAULT + 0.02, T_FAULT + 0.02, Category.RECOVERY,
             manual=True, stated_s=900.0, phase="detect")
    result = evaluate(files)
    phase = next(c for c in result.checks if c.key == "phase.detection")
    assert phase.verdict == Verdict.FAIL and phase.measured_value == 900.0
    rto = next(c for c in result.checks if c.key == "rto_s")
    assert rto.measured_value is not None and rto.measured_value > 900.0  # stated, added


def test_a_command_monitor_and_check(tmp_path: Path) -> None:
    """A team's own monitoring script: it exits 0 while all is well."""
    from drills.plan_drill.checks import run_check

    plan = load_plan(plan_with_detect(tmp_path, "{monitor: {command: [sh, -c, 'exit 0']}, "
                                                "every: 1s}"))
    detect = plan.scenario("oops").detect
    assert detect is not None and detect.monitor is not None
    assert detect.monitor.kind is CheckKind.COMMAND
    assert detect.monitor.describe() == "`sh -c exit 0` exits 0"
    verdict, detail, _ = run_check(detect.monitor, {}, "db", {})
    assert verdict == Verdict.PASS and "exit 0" in detail
    failing = load_plan(plan_with_detect(
        tmp_path, "{monitor: {command: [sh, -c, 'echo orders missing >&2; exit 3']}}")
    ).scenario("oops").detect
    assert failing is not None and failing.monitor is not None
    verdict, detail, _ = run_check(failing.monitor, {}, "db", {})
    assert verdict == Verdict.FAIL and "exited 3" in detail and "orders missing" in detail
    with pytest.raises(PlanError, match="a command check takes no `at_least`"):
        load_plan(plan_with_detect(tmp_path, "{monitor: {command: [true], at_least: 1}}"))
