"""A version 2 plan's own verdicts from recorded drills: manual steps, phase limits, checks."""

from __future__ import annotations

from pathlib import Path

from drills.measure.evaluate import evaluate
from drills.measure.verdict import Verdict
from drills.record.clock import Instant
from drills.record.journal import Journal, load_journal, write_json
from drills.record.timeline import Category, Event, EventKind, Timeline
from tests.synthetic import MONO0, T_FAULT, make_scenario_dir
from tests.unit.test_evaluate import add_event, by_key, codes


def at(t: float) -> Instant:
    return Instant(MONO0 + t, 1_700_000_000.0 + t)


def with_targets(tmp_path: Path, **targets: object):  # type: ignore[no-untyped-def]
    return make_scenario_dir(tmp_path, lost=0, targets={"rto_s": 30.0, **targets})


def add_step(files, name: str, start: float, end: float, category: Category,  # type: ignore[no-untyped-def]
             **data: object) -> None:
    add_event(files, EventKind.STEP_START, name, category=str(category))
    add_event(files, EventKind.STEP_END, name, category=str(category), ok=True, **data)
    journal = load_journal(files)  # place them where the test says, not at the conclusion
    events = list(journal.timeline.events)
    for i, e in enumerate(events):
        if e.name == name and e.kind == EventKind.STEP_START:
            events[i] = Event(e.seq, e.kind, e.name, at(start), e.data)
        elif e.name == name and e.kind == EventKind.STEP_END:
            events[i] = Event(e.seq, e.kind, e.name, at(end), e.data)
    journal.timeline = Timeline(tuple(events))
    write_json(files.journal, Journal.to_dict(journal))


def test_stated_manual_steps_are_added_to_the_measured_rto(tmp_path: Path) -> None:
    files = with_targets(tmp_path)
    add_step(files, "manual: update DNS", T_FAULT + 0.5, T_FAULT + 0.5, Category.RECOVERY,
             manual=True, stated_s=25.0, plan_phase="execution")
    rto = by_key(evaluate(files), "rto_s")
    assert rto.measured_value is not None and rto.measured_value > 25.0
    assert "stated for manual steps (not measured)" in rto.measured
    assert rto.verdict == Verdict.PASS  # 1.5 s + 25 s <= 30 s

    files = with_targets(tmp_path / "b")
    add_step(files, "manual: update DNS", T_FAULT + 0.5, T_FAULT + 0.5, Category.RECOVERY,
             manual=True, stated_s=29.0, plan_phase="execution")
    result = evaluate(files)
    assert by_key(result, "rto_s").verdict == Verdict.FAIL  # 1.5 s + 29 s > 30 s
    assert "RTO_EXCEEDED" in codes(result)


def test_phase_limits(tmp_path: Path) -> None:
    files = with_targets(tmp_path, phases={"detection": 0.2, "execution": 60.0,
                                           "decision": 1.0})
    add_step(files, "detect the disaster", T_FAULT + 0.02, T_FAULT + 0.5, Category.RECOVERY)
    add_step(files, "manual: call the DBA", T_FAULT + 0.6, T_FAULT + 0.6, Category.RECOVERY,
             manual=True, stated_s=120.0, plan_phase="decision")
    result = evaluate(files)
    assert by_key(result, "phase.detection").verdict == Verdict.FAIL  # 0.5 s > 0.2 s
    assert by_key(result, "phase.decision").verdict == Verdict.FAIL  # 120 s stated > 1 s
    assert "stated (manual, not measured)" in by_key(result, "phase.decision").measured
    # no step in the execution phase: nothing measured, which is not 0 s (rule 13)
    execution = by_key(result, "phase.execution")
    assert execution.verdict == Verdict.COULD_NOT_VERIFY
    assert "no step of the drill is in the execution phase" in execution.reason
    assert "PHASE_EXCEEDED" in codes(result)


def test_a_phase_the_drill_never_had_could_not_verify(tmp_path: Path) -> None:
    result = evaluate(with_targets(tmp_path, phases={"detection": 5.0}))
    assert by_key(result, "phase.detection").verdict == Verdict.COULD_NOT_VERIFY


def test_checks_after_recovery(tmp_path: Path) -> None:
    files = with_targets(tmp_path)
    add_step(files, "check 1: GET /health answers 200", 13.0, 13.1, Category.CHECK,
             plan_check=True, verdict="pass", detail="GET /health: 200",
             check={"kind": "http"})
    add_step(files, "check 2: on db: `SELECT count(*) FROM orders` >= 2", 13.2, 13.3,
             Category.CHECK, plan_check=True, verdict="fail", detail="answered 0 (wanted >= 2)",
             value=0, check={"kind": "sql"})
    add_step(files, "check 3: the write ledger in cache", 13.4, 13.4, Category.CHECK,
             plan_check=True, verdict="could not verify",
             detail="the write ledger is kept in db, not cache", check={"kind": "ledger"})
    result = evaluate(files)
    assert by_key(result, "check.1").verdict == Verdict.PASS
    second = by_key(result, "check.2")
    assert second.verdict == Verdict.FAIL and second.measured_value == 0.0
    assert by_key(result, "check.3").verdict == Verdict.COULD_NOT_VERIFY
    assert result.verdict == Verdict.FAIL and "CHECK_FAILED" in codes(result)
