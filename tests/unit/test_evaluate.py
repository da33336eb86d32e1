"""Verdicts and findings from recorded drills: each way a drill can fail, and healthy cases."""

import json
from pathlib import Path

import pytest

from drills.measure.evaluate import evaluate
from drills.measure.verdict import Verdict
from drills.record.clock import Instant
from drills.record.journal import Journal, ScenarioFiles, load_journal, write_json
from drills.record.readback import load_readback
from drills.record.timeline import Event, EventKind, Timeline
from tests.synthetic import MONO0, T_FAULT, T_RECOVERED, make_scenario_dir, write_readback


def by_key(result, key):  # type: ignore[no-untyped-def]
    return next(c for c in result.checks if c.key == key)


def codes(result):  # type: ignore[no-untyped-def]
    return {f.code for f in result.findings}


def add_event(files: ScenarioFiles, kind: EventKind, name: str, *, after_conclusion: bool = False,
              **data: object) -> None:
    """Record an event as the drill would have: before its conclusion, unless told."""
    journal = load_journal(files)
    events = list(journal.timeline.events)
    done = next(i for i, e in enumerate(events) if e.kind == EventKind.CHECK_DONE)
    at = events[done].at if not after_conclusion else Instant(events[-1].at.mono + 1,
                                                              events[-1].at.wall + 1)
    new = Event(0, kind, name, at, data)
    events.insert(len(events) if after_conclusion else done, new)
    renumbered = tuple(Event(i, e.kind, e.name, e.at, e.data) for i, e in enumerate(events))
    journal.timeline = Timeline(renumbered)
    write_json(files.journal, Journal.to_dict(journal))


def test_healthy_drill_passes_with_no_failure_findings(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=0))
    assert result.verdict == Verdict.PASS
    assert codes(result) <= {"WRITES_IN_DOUBT"}


def test_lost_writes_fail_rpo_and_count(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=4))
    assert by_key(result, "max_lost_writes").verdict == Verdict.FAIL
    assert by_key(result, "rpo_s").verdict == Verdict.FAIL
    assert {"ACKED_WRITES_LOST", "RPO_EXCEEDED"} <= codes(result)
    assert result.rpo is not None and result.rpo.lost_writes == 4


def test_rto_target_exceeded(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=0, targets={"rto_s": 1.0}))
    assert by_key(result, "rto_s").verdict == Verdict.FAIL
    assert "RTO_EXCEEDED" in codes(result)


def test_empty_history_could_not_verify(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, readback=False)
    files.history.write_text("")
    write_readback(files, {}, source="empty")
    result = evaluate(files)
    assert by_key(result, "rpo_s").verdict == Verdict.COULD_NOT_VERIFY
    assert by_key(result, "max_lost_writes").verdict == Verdict.COULD_NOT_VERIFY
    assert result.verdict == Verdict.COULD_NOT_VERIFY


def test_missing_probe_record_could_not_verify_rto(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=0, probes=False))
    assert by_key(result, "rto_s").verdict == Verdict.COULD_NOT_VERIFY
    assert result.verdict == Verdict.COULD_NOT_VERIFY


def test_unhealthy_before_fault_could_not_verify(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0)
    lines = files.probes.read_text().splitlines()
    files.probes.write_text("\n".join(ln.replace('"ok": true', '"ok": false') if i < 90 else ln
                                      for i, ln in enumerate(lines)) + "\n")
    check = by_key(evaluate(files), "rto_s")
    assert check.verdict == Verdict.COULD_NOT_VERIFY
    assert "never passed before the fault" in check.reason


def test_procedure_error_never_passes(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=0, error="stack did not start"))
    assert result.verdict == Verdict.COULD_NOT_VERIFY
    assert by_key(result, "procedure").verdict == Verdict.COULD_NOT_VERIFY


def test_rto_calibration_compares_with_the_recorded_outage(tmp_path: Path) -> None:
    # A freeze asked for 1.4 s that took effect 1.5 s apart (docker pause alone takes
    # 20-64 ms): the RTO is compared with the outage the timeline recorded, not the request.
    good = make_scenario_dir(tmp_path, "good", lost=0, freeze=True)
    add_event(good, EventKind.CALIBRATION, "RTO clock", check="rto", outage="fault to revert",
              tolerance_s=0.1, requested_s=1.4)
    result = evaluate(good)
    check = by_key(result, "calibration.rto")
    assert check.verdict == Verdict.PASS, check
    assert check.target_value == pytest.approx(T_RECOVERED - T_FAULT)
    assert result.rto is not None and result.rto.seconds is not None
    assert abs(result.rto.seconds - 1.5) <= 0.1 < abs(result.rto.seconds - 1.4)


def test_rto_calibration_fails_when_the_clock_is_off(tmp_path: Path) -> None:
    bad = make_scenario_dir(tmp_path, "bad", lost=0, freeze=True)
    probes = bad.probes.read_text().splitlines()
    # the first passing probes after the thaw are lost: the service looks down 0.5 s longer
    kept = [ln for i, ln in enumerate(probes) if not 105 <= i < 111]
    bad.probes.write_text("\n".join(kept) + "\n")
    add_event(bad, EventKind.CALIBRATION, "RTO clock", check="rto", outage="fault to revert",
              tolerance_s=0.1)
    result = evaluate(bad)
    assert by_key(result, "calibration.rto").verdict == Verdict.FAIL
    assert "CALIBRATION_FAILED" in codes(result)


def test_rto_calibration_without_a_revert_could_not_verify(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0)  # a kill: nothing reverts it
    add_event(files, EventKind.CALIBRATION, "RTO clock", check="rto", outage="fault to revert",
              tolerance_s=0.1)
    check = by_key(evaluate(files), "calibration.rto")
    assert check.verdict == Verdict.COULD_NOT_VERIFY


def test_events_after_the_conclusion_do_not_change_the_verdict(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0)
    before = evaluate(files).to_dict()
    add_event(files, EventKind.ERROR, "drill error", after_conclusion=True,
              error="RuntimeError: raised by the test after conclude()")
    assert evaluate(files).to_dict() == before
    add_event(files, EventKind.ERROR, "drill error", error="RuntimeError: during the drill")
    assert evaluate(files).verdict == Verdict.COULD_NOT_VERIFY


def test_loss_calibration_needs_exactly_the_deleted_ids(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, "exact", lost=3, targets={"rto_s": 30.0})
    lost = evaluate(files).writes
    assert lost is not None and len(lost.lost) == 3
    add_event(files, EventKind.CALIBRATION, "loss", check="loss", expected_ids=list(lost.lost))
    assert evaluate(files).verdict == Verdict.PASS
    other = make_scenario_dir(tmp_path, "missed", lost=3, targets={"rto_s": 30.0})
    add_event(other, EventKind.CALIBRATION, "loss", check="loss",
              expected_ids=list(lost.lost[:2]))
    assert by_key(evaluate(other), "calibration.loss").verdict == Verdict.FAIL


def test_unexpected_rows_make_loss_figures_unverifiable(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0)
    rows = load_readback(files.readback).rows
    assert rows is not None
    values = {int(i): "v" for i in rows["id"]}
    write_readback(files, {**values, 999999: "ghost"})
    result = evaluate(files)
    assert by_key(result, "integrity").verdict == Verdict.FAIL
    assert by_key(result, "max_lost_writes").verdict == Verdict.COULD_NOT_VERIFY
    assert "UNEXPECTED_WRITES" in codes(result)


def test_fault_time_is_the_fault_step_start(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=0))
    assert result.t_fault_mono == MONO0 + T_FAULT


def test_a_fault_that_did_not_take_effect_is_not_measured_from(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0)
    journal = load_journal(files)
    events = [Event(e.seq, e.kind, e.name, e.at,
                    {**e.data, "ok": False, "error": "FaultError: only 3 acknowledged writes"}
                    if e.kind == EventKind.STEP_END and e.name == "kill postgres" else e.data)
              for e in journal.timeline.events]
    journal.timeline = Timeline(tuple(events))
    write_json(files.journal, Journal.to_dict(journal))
    result = evaluate(files)
    assert result.t_fault_mono is None and result.rto is None
    assert result.verdict == Verdict.COULD_NOT_VERIFY
    assert any("was not injected: FaultError" in e for e in result.errors)


def test_availability_during_the_fault_against_its_target(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=0, targets={
        "rto_s": 30.0, "availability": 0.99, "p99_latency_s": 0.5}))
    fault = next(p for p in result.service_levels if p.phase == "fault")
    # the synthetic crash: from the kill at 10 s to the end of the restart at 11.5 s
    assert (fault.start_mono, fault.end_mono) == (MONO0 + T_FAULT, MONO0 + T_RECOVERED)
    assert fault.writes == 30 and fault.ok == 0 and fault.unknown == 2 and fault.fail == 28
    availability = by_key(result, "availability")
    assert availability.verdict == Verdict.FAIL and availability.measured_value == 0.0
    assert "AVAILABILITY_MISSED" in codes(result)
    latency = by_key(result, "p99_latency")  # the refusals came back in 1 ms
    assert latency.verdict == Verdict.PASS
    assert latency.measured_value == pytest.approx(0.001)
    assert result.to_dict()["service_levels"][0]["phase"] == "before"


def test_latency_target_missed(tmp_path: Path) -> None:
    result = evaluate(make_scenario_dir(tmp_path, lost=0, targets={"p99_latency_s": 0.0005}))
    assert by_key(result, "p99_latency").verdict == Verdict.FAIL
    assert "LATENCY_EXCEEDED" in codes(result)


def test_service_level_targets_without_a_fault_could_not_verify(tmp_path: Path) -> None:
    files = make_scenario_dir(tmp_path, lost=0, targets={"availability": 0.9})
    journal = json.loads(files.journal.read_text())
    journal["events"] = [e for e in journal["events"] if e.get("data", {}).get("category")
                         != "fault"]
    files.journal.write_text(json.dumps(journal))
    result = evaluate(files)
    assert by_key(result, "availability").verdict == Verdict.COULD_NOT_VERIFY


def test_an_empty_read_back_means_every_write_is_lost(tmp_path: Path) -> None:
    # the ledger table is gone (a server lost, not restored): zero rows is a measurement
    files = make_scenario_dir(tmp_path, lost=0)
    write_readback(files, {}, source="db: table drill_writes does not exist")
    result = evaluate(files)
    assert result.writes is not None and result.rpo is not None
    assert len(result.writes.lost) == result.writes.acked > 0
    assert by_key(result, "max_lost_writes").verdict == Verdict.FAIL
