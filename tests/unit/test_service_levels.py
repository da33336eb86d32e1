"""Service levels per phase: which writes fall where, and the figures of each phase."""

from __future__ import annotations

import pytest

from drills.measure.service_levels import (
    PHASES,
    LevelsScan,
    measure_levels,
    phase_bounds,
    quantile,
)
from drills.record.clock import Instant
from drills.record.history import Op, Outcome, ops_table
from drills.record.timeline import Category, Step


def op(i: int, at: float, outcome: Outcome = Outcome.OK, latency: float | None = 0.01) -> Op:
    done = None if latency is None else at + latency
    return Op(i, "write", "v", at, at, outcome, done, done)


def step(name: str, category: Category, start: float, end: float) -> Step:
    return Step(name, category, Instant(start, start), Instant(end, end), True, {})


def test_quantile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert quantile(values, 0.50) == 50.0
    assert quantile(values, 0.99) == 99.0
    assert quantile(values, 1.0) == 100.0
    assert quantile([7.0], 0.99) == 7.0
    assert quantile([], 0.5) is None


def test_a_reverted_fault_ends_at_its_revert() -> None:
    steps = [step("latency", Category.FAULT, 10.0, 10.002),
             step("end latency", Category.REVERT, 15.0, 15.002)]
    bounds = phase_bounds(5.0, 20.0, steps, 10.0, first_good=15.1)
    assert bounds == [("before", 5.0, 10.0), ("fault", 10.0, 15.0),
                      ("recovery", 15.0, 15.1), ("after", 15.1, 20.0)]


def test_a_crash_lasts_until_the_last_recovery_step_ends() -> None:
    steps = [step("kill", Category.FAULT, 10.0, 10.01),
             step("restart", Category.RECOVERY, 10.01, 11.5)]
    bounds = phase_bounds(5.0, 20.0, steps, 10.0, first_good=11.6)
    assert [b[1:] for b in bounds] == [(5.0, 10.0), (10.0, 11.5), (11.5, 11.6), (11.6, 20.0)]


def test_each_write_counts_once_in_the_phase_it_was_invoked_in() -> None:
    steps = [step("cut", Category.FAULT, 10.0, 10.0), step("heal", Category.REVERT, 13.0, 13.0)]
    ops = [op(i, 5.0 + i * 0.5) for i in range(10)]  # 5.0 .. 9.5: before
    ops += [op(100 + i, 10.0 + i * 0.5, Outcome.FAIL, 0.001) for i in range(4)]  # 10 .. 11.5
    ops += [op(200, 12.0, Outcome.UNKNOWN, 2.0), op(201, 12.5, Outcome.UNKNOWN, None)]
    ops += [op(300, 13.05, latency=0.2)]  # recovery
    ops += [op(400 + i, 14.0 + i, latency=0.02) for i in range(3)]  # after, to 16.0
    levels = {p.phase: p for p in measure_levels(ops, steps, 10.0, first_good=13.1)}
    assert sum(p.writes for p in levels.values()) == len(ops)
    before, fault = levels["before"], levels["fault"]
    assert (before.writes, before.ok, before.availability) == (10, 10, 1.0)
    assert before.rate_per_s == pytest.approx(10 / 5.0)
    assert (fault.writes, fault.ok, fault.fail, fault.unknown) == (6, 0, 4, 2)
    assert fault.availability == 0.0 and fault.error_rate == 1.0
    # latency over answered writes only: 4 x 1 ms and one 2 s timeout; the unanswered one
    # (no completion) has no latency
    assert fault.p50_ms == pytest.approx(1.0) and fault.p99_ms == pytest.approx(2000.0)
    assert levels["recovery"].writes == 1 and levels["recovery"].p99_ms == pytest.approx(200.0)
    after = levels["after"]
    assert after.writes == 3 and after.end_mono == 16.0  # the last write counts in it


def test_a_phase_without_writes_has_no_figures() -> None:
    steps = [step("cut", Category.FAULT, 10.0, 10.0), step("heal", Category.REVERT, 13.0, 13.0)]
    levels = {p.phase: p for p in measure_levels([op(1, 5.0), op(2, 14.0)], steps, 10.0, 13.1)}
    fault = levels["fault"]
    assert fault.writes == 0 and fault.availability is None and fault.p99_ms is None
    assert fault.duration_s == pytest.approx(3.0)


def test_never_recovered_puts_only_the_last_instant_after_across_chunks() -> None:
    # no probe passed again: "recovery" runs to the last write, "after" holds the writes
    # invoked at that last instant, wherever they fall in the stream
    steps = [step("kill", Category.FAULT, 10.0, 10.01),
             step("restart", Category.RECOVERY, 10.02, 11.0)]
    scanner = LevelsScan(steps, 10.0, first_good=None)
    scanner.add(ops_table([op(1, 5.0), op(2, 12.0), op(3, 13.0)]), None)
    scanner.add(ops_table([op(4, 12.5), op(5, 13.0), op(6, 10.5)]), None)
    finished = scanner.finish()
    levels = {p.phase: p for p in finished}
    assert [levels[p].writes for p in PHASES] == [1, 1, 2, 2]
    assert (levels["recovery"].start_mono, levels["recovery"].end_mono) == (11.0, 13.0)
    assert (levels["after"].start_mono, levels["after"].end_mono) == (13.0, 13.0)
    # the same writes in one chunk give the same figures
    assert measure_levels([op(1, 5.0), op(2, 12.0), op(3, 13.0), op(4, 12.5), op(5, 13.0),
                           op(6, 10.5)], steps, 10.0, None) == finished
