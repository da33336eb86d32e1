from drills.measure.checker import check_writes
from drills.measure.rpo import acked_before, measure_rpo
from drills.record.history import Op, Outcome


def op(i: int, outcome: Outcome, ack: float | None = None, value: str | None = None) -> Op:
    invoke = (ack if ack is not None else float(i)) - 0.001
    return Op(i, "write", value or f"v{i}", invoke, invoke + 1e9, outcome,
              ack if outcome != Outcome.UNKNOWN else None, None)


def test_no_loss() -> None:
    ops = [op(i, Outcome.OK, float(i)) for i in range(1, 6)]
    check = check_writes(ops, {i: f"v{i}" for i in range(1, 6)})
    assert (check.acked, check.lost, check.unexpected, check.corrupted) == (5, (), (), ())
    rpo = measure_rpo(check, acked_before(ops, 10.0), t_fault=10.0)
    assert rpo.window_s == 0.0 and rpo.lost_writes == 0 and rpo.acked_before_fault == 5


def test_all_lost_window_from_oldest_lost_ack() -> None:
    ops = [op(i, Outcome.OK, float(i)) for i in range(1, 6)]
    check = check_writes(ops, {})
    assert check.lost == (1, 2, 3, 4, 5)
    rpo = measure_rpo(check, acked_before(ops, 10.0), t_fault=10.0)
    assert rpo.window_s == 9.0
    assert rpo.lost_span_s == 4.0


def test_unknown_outcomes_are_never_lost() -> None:
    ops = [op(1, Outcome.UNKNOWN), op(2, Outcome.UNKNOWN), op(3, Outcome.OK, 3.0)]
    check = check_writes(ops, {1: "v1", 3: "v3"})
    assert check.recovered == (1,)
    assert check.lost == ()
    assert check.unknown == 2


def test_present_but_failed_or_never_invoked_is_unexpected() -> None:
    ops = [op(1, Outcome.FAIL, 1.0), op(2, Outcome.OK, 2.0)]
    check = check_writes(ops, {1: "v1", 2: "v2", 99: "ghost"})
    assert check.unexpected == (1, 99)


def test_changed_value_is_corrupted_not_lost() -> None:
    ops = [op(1, Outcome.OK, 1.0), op(2, Outcome.UNKNOWN)]
    check = check_writes(ops, {1: "tampered", 2: "also"})
    assert check.corrupted == (1, 2)
    assert check.lost == ()


def test_out_of_order_completions_sort_lost_by_ack_time() -> None:
    # id 2 was invoked after id 1 but acknowledged before it
    ops = [op(1, Outcome.OK, 5.0), op(2, Outcome.OK, 3.0), op(3, Outcome.OK, 4.0)]
    check = check_writes(ops, {3: "v3"})
    assert check.lost == (2, 1)
    rpo = measure_rpo(check, acked_before(ops, 6.0), t_fault=6.0)
    assert rpo.window_s == 3.0  # from the ack at 3.0, not from id 1's invoke


def test_lost_ack_after_fault_clamps_window_to_zero() -> None:
    ops = [op(1, Outcome.OK, 11.0)]
    rpo = measure_rpo(check_writes(ops, {}), acked_before(ops, 10.0), t_fault=10.0)
    assert rpo.window_s == 0.0 and rpo.lost_writes == 1 and rpo.acked_before_fault == 0
    assert rpo.lost_after_fault == 1


def test_empty_history() -> None:
    check = check_writes([], {})
    assert (check.invoked, check.acked, check.lost) == (0, 0, ())
    assert measure_rpo(check, acked_before([], 1.0), t_fault=1.0).acked_before_fault == 0


def test_lost_after_fault_is_counted_apart() -> None:
    ops = [op(1, Outcome.OK, 9.5), op(2, Outcome.OK, 10.002), op(3, Outcome.OK, 10.004)]
    rpo = measure_rpo(check_writes(ops, {1: "v1"}), acked_before(ops, 10.0), t_fault=10.0)
    assert (rpo.lost_writes, rpo.lost_after_fault, rpo.window_s) == (2, 2, 0.0)


def test_a_row_written_outside_the_drill_is_a_conflict_not_corruption() -> None:
    # the drill's write of id 2 was refused (duplicate key): the row holds a foreign value
    ops = [op(1, Outcome.OK, 1.0), op(2, Outcome.FAIL, 2.0), op(3, Outcome.OK, 3.0)]
    check = check_writes(ops, {1: "v1", 2: "someone else's", 3: "garbage"})
    assert check.conflicting == (2,)
    assert check.corrupted == (3,)  # acknowledged, then changed: that is corruption
    assert check.unexpected == ()
