"""Every lost acknowledged write is judged (docs/measurement.md rules 4, 12 and 13).

Each case was a "pass" before issue 19: a plan with only an RTO that lost writes, writes
acknowledged after the fault and discarded, an RPO target longer than the load before the
fault, a failed recovery step, a ledger check without a row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drills.errors import PlanError
from drills.measure.evaluate import evaluate
from drills.measure.verdict import Verdict
from drills.plan import load_plan
from drills.record.journal import Journal, ScenarioFiles, load_journal, write_json
from drills.record.readback import load_readback
from drills.record.timeline import Event, EventKind, Timeline
from tests.synthetic import T_RECOVERED, make_scenario_dir, write_readback
from tests.unit.test_evaluate import add_event, by_key, codes


def _present(files: ScenarioFiles) -> dict[int, str]:
    """The store's rows: the synthetic drill writes each id's value as 8 hex digits."""
    return {int(i): f"{int(i):08x}" for i in load_readback(files.readback).ids}


def _drop_acked_after_fault(files: ScenarioFiles, count: int) -> list[int]:
    """Remove the first ``count`` writes acknowledged after the restart from the store."""
    present = _present(files)
    first_after = int((T_RECOVERED - 1.0) / 0.05) + 1  # the op id written at T_RECOVERED
    gone = [i for i in sorted(present) if i >= first_after][:count]
    for i in gone:
        del present[i]
    write_readback(files, present)
    return gone


def _edit_journal(files: ScenarioFiles, **scenario: Any) -> Journal:
    journal = load_journal(files)
    journal.scenario = {**journal.scenario, **scenario}
    write_json(files.journal, journal.to_dict())
    return journal


def test_a_plan_with_only_an_rto_still_judges_lost_writes(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=3, targets={"rto_s": 30.0}))
    row = by_key(result, "loss.before_fault")
    assert row.verdict == Verdict.FAIL and row.measured_value == 3
    assert "state it (rpo or max_lost_writes)" in row.reason
    assert result.verdict == Verdict.FAIL and "ACKED_WRITES_LOST" in codes(result)
    assert result.to_dict()["loss"]["lost_before_fault"] == 3


def test_no_loss_passes_the_implied_row(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=0, targets={"rto_s": 30.0}))
    assert by_key(result, "loss.before_fault").verdict == Verdict.PASS
    assert by_key(result, "loss.after_fault").verdict == Verdict.PASS
    assert result.verdict == Verdict.PASS


def test_writes_acknowledged_after_the_fault_and_discarded_fail_by_default(
        tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0,
                              targets={"rto_s": 30.0, "rpo_s": 60.0, "max_lost_writes": 100})
    gone = _drop_acked_after_fault(files, 4)
    result = evaluate(files)
    row = by_key(result, "loss.after_fault")
    assert row.verdict == Verdict.FAIL and row.measured_value == 4
    assert "state discard_window" in row.reason
    assert by_key(result, "rpo_s").verdict == Verdict.PASS  # they add nothing to the window
    assert by_key(result, "rpo_s").measured_value == 0.0
    assert by_key(result, "max_lost_writes").measured_value == 4  # counted in the total
    assert "LOST_AFTER_FAULT_BEGAN" in codes(result) and result.verdict == Verdict.FAIL
    loss = result.to_dict()["loss"]
    assert loss["lost_after_fault"] == 4 and loss["lost_before_fault"] == 0
    assert set(gone) <= set(result.writes.lost) if result.writes else False


def test_discard_window_accepts_only_writes_within_it(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, targets={"rto_s": 30.0, "rpo_s": 60.0,
                                                         "discard_window_s": 2.0})
    _drop_acked_after_fault(files, 4)  # acknowledged 1.5 .. 1.65 s after the fault
    row = by_key(evaluate(files), "loss.after_fault")
    assert row.verdict == Verdict.PASS and row.measured_value is not None
    assert 1.5 <= row.measured_value < 2.0

    files = make_scenario_dir(tmp_path / "b", lost=0, targets={"rto_s": 30.0, "rpo_s": 60.0,
                                                               "discard_window_s": 1.0})
    _drop_acked_after_fault(files, 4)
    assert by_key(evaluate(files), "loss.after_fault").verdict == Verdict.FAIL


def test_an_rpo_reaching_back_to_the_first_write_is_a_bound(tmp_path: Path) -> None:
    first = evaluate(make_scenario_dir(tmp_path / "count", lost=0))
    assert first.rpo is not None
    everything = first.rpo.acked_before_fault  # every write acknowledged before the fault
    files = make_scenario_dir(tmp_path, lost=everything, targets={"rto_s": 30.0, "rpo_s": 3600.0})
    row = by_key(evaluate(files), "rpo_s")
    assert row.verdict == Verdict.COULD_NOT_VERIFY
    assert row.measured.startswith("at least") and "first" in row.reason
    # a target below the bound is missed whatever the true window
    files = make_scenario_dir(tmp_path / "b", lost=everything,
                              targets={"rto_s": 30.0, "rpo_s": 5.0})
    result = evaluate(files)
    assert by_key(result, "rpo_s").verdict == Verdict.FAIL
    assert result.to_dict()["loss"]["rpo_window_is_lower_bound"] is True
    # one write fewer lost: the window is exact again
    files = make_scenario_dir(tmp_path / "c", lost=10, targets={"rto_s": 30.0, "rpo_s": 3600.0})
    row = by_key(evaluate(files), "rpo_s")
    assert row.verdict == Verdict.PASS and not row.measured.startswith("at least")


def test_a_failed_recovery_step_fails_and_the_plans_checks_still_appear(
        tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, targets={"rto_s": 30.0})
    journal = _edit_journal(files, checks=[
        {"kind": "http", "url": "http://127.0.0.1:8080/health", "service": None},
        {"kind": "ledger", "service": "postgres"},
    ])
    events = [Event(e.seq, e.kind, e.name, e.at,
                    {**e.data, "ok": False, "error": "pg_restore: error: could not read"})
              if e.kind == EventKind.STEP_END and e.name == "restart postgres" else e
              for e in journal.timeline.events]
    journal.timeline = Timeline(tuple(events))
    write_json(files.journal, journal.to_dict())
    result = evaluate(files)
    row = by_key(result, "recovery")
    assert row.verdict == Verdict.FAIL and "pg_restore: error" in row.reason
    assert "RECOVERY_FAILED" in codes(result) and result.verdict == Verdict.FAIL
    http = by_key(result, "check.1")
    assert http.verdict == Verdict.COULD_NOT_VERIFY and "could not run" in http.reason
    assert "restart postgres" in http.reason
    assert by_key(result, "check.2").title.startswith("the write ledger in postgres")


def test_a_ledger_check_is_a_real_row(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=2, targets={"rto_s": 30.0})
    _edit_journal(files, checks=[{"kind": "ledger", "service": "postgres"}])
    row = by_key(evaluate(files), "check.1")
    assert row.verdict == Verdict.FAIL and "lost before the fault" in row.measured

    files = make_scenario_dir(tmp_path / "b", lost=0, targets={"rto_s": 30.0})
    _edit_journal(files, checks=[{"kind": "ledger", "service": "postgres"}])
    assert by_key(evaluate(files), "check.1").verdict == Verdict.PASS


def test_writes_deleted_by_the_calibration_are_not_loss(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=3, targets={"rto_s": 30.0})
    before = evaluate(files).writes
    assert before is not None and len(before.lost) == 3
    lost = list(before.lost)
    add_event(files, EventKind.CALIBRATION, "loss detection", check="loss", expected_ids=lost)
    result = evaluate(files)
    row = by_key(result, "loss.before_fault")
    assert row.verdict == Verdict.PASS and "3 more deleted on purpose" in row.measured


@pytest.mark.parametrize("scenario", ["postgres-kill-async-commit", "redis-kill-rdb",
                                      "postgres-restore-dump", "redis-flushall-rdb"])
def test_a_scenario_that_loses_by_design_must_state_its_tolerance(
        tmp_path: Path, scenario: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(f"version: 1\nscenarios:\n  {scenario}:\n    targets: {{rto: 30s}}\n")
    with pytest.raises(PlanError, match=f"scenarios.{scenario}.targets: {scenario} loses "
                       "acknowledged writes by design"):
        load_plan(path)
    path.write_text(f"version: 1\nscenarios:\n  {scenario}:\n    targets: {{rto: 30s, "
                    "rpo: 1m, discard_window: 10s}\n")
    assert load_plan(path).scenarios[scenario].targets.discard_window_s == 10.0


def test_a_scenario_that_must_lose_nothing_needs_no_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("version: 1\nscenarios:\n  postgres-kill:\n    targets: {rto: 30s}\n")
    assert load_plan(path).scenarios["postgres-kill"].targets.states_loss is False



def test_drill_check_says_how_loss_is_judged_and_warns_of_a_censored_rpo(
        tmp_path: Path) -> None:
    from drills.plan.preview import describe

    path = tmp_path / "plan.yaml"
    path.write_text("version: 1\ndefaults: {workload: {warmup: 3s}}\nscenarios:\n"
                    "  postgres-kill: {targets: {rto: 30s}}\n"
                    "  postgres-kill-async-commit: {targets: {rto: 30s, rpo: 1h, "
                    "discard_window: 1s}}\n"
                    "  redis-kill-rdb: {targets: {rto: 30s, rpo: 2s}}\n")
    lines = describe(load_plan(path))
    text = "\n".join(lines)
    assert "none acknowledged before the fault may be lost (no rpo or max_lost_writes" in text
    assert "may be lost only within 1 s of it" in text
    warnings = [line for line in lines if line.strip().startswith("warning:")]
    assert len(warnings) == 1 and "RPO 1 h is longer than the load planned" in warnings[0]


def test_a_foreign_writer_is_diagnosed_as_such(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, targets={"rto_s": 30.0})
    present = _present(files)
    refused = 200  # written during the outage (t = 10.95 s): its outcome is fail
    present[refused] = "a row another writer put there"
    write_readback(files, present)
    result = evaluate(files)
    assert "FOREIGN_WRITER" in codes(result) and "WRITES_CORRUPTED" not in codes(result)
    assert by_key(result, "integrity").verdict == Verdict.FAIL


def test_a_demoted_primarys_lost_writes_fall_in_exactly_one_class() -> None:
    """Acknowledged before the fault, before the promotion, or after it: disjoint, complete."""
    import numpy as np

    from drills.measure.replication import held_classes

    lost = np.array([1, 2, 3, 4, 5, 6, 7])
    acks = np.array([9.0, 10.0, 10.5, 11.0, 11.5, 12.0, 13.0])
    ledger = np.array([1, 2, 3, 4, 5, 6, 100])  # 7 is lost but not on the old primary
    c = held_classes(lost, acks, ledger, t_fault=10.0, promoted_mono=11.0)
    assert lost[c.unreplicated].tolist() == [1, 2]  # an ack at the fault instant is before it
    assert lost[c.isolated].tolist() == [3, 4]
    assert lost[c.after].tolist() == [5, 6]
    assert not (c.unreplicated & c.isolated).any() and not (c.isolated & c.after).any()
