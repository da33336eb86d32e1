import pytest

from drills.measure.rto import achieved_interval, measure_rto
from drills.plan import ProbeSpec
from drills.record.clock import Instant
from drills.record.history import ProbeAttempt
from drills.record.timeline import Category, Step

SPEC = ProbeSpec(interval_s=0.05, timeout_s=1.0)


def probe(t: float, ok: bool, latency: float = 0.001) -> ProbeAttempt:
    return ProbeAttempt(t, t, t + latency, t + latency, ok, None if ok else "down")


def step(name: str, cat: Category, start: float, end: float) -> Step:
    return Step(name, cat, Instant(start, start), Instant(end, end), True, {})


def test_kill_restart_phases_and_resolution() -> None:
    probes = [probe(9.95, True), *[probe(10.0 + 0.05 * i, False) for i in range(1, 6)],
              probe(10.30, True), probe(10.35, True)]
    steps = [step("kill postgres", Category.FAULT, 10.0, 10.01),
             step("restart postgres", Category.RECOVERY, 10.02, 10.28)]
    rto = measure_rto(10.0, 10.01, probes, steps, SPEC)
    assert rto.seconds == pytest.approx(0.301)
    assert rto.resolution_s == pytest.approx(0.301 - 0.251)  # since the last failed probe
    assert [p.name for p in rto.phases] == [
        "fault: kill postgres", "detection", "recovery: restart postgres", "verification"]
    assert sum(p.duration_s for p in rto.phases) == pytest.approx(rto.seconds)
    assert rto.failed_probes_after_fault == 5


def test_probe_invoked_before_fault_end_does_not_count() -> None:
    probes = [probe(10.005, True), probe(10.1, False), probe(10.2, True)]
    rto = measure_rto(10.0, 10.01, probes, [], SPEC)
    assert rto.seconds == pytest.approx(0.201)
    assert rto.outage_seen


def test_a_service_that_never_stopped_answering_has_no_outage() -> None:
    # a cache killed behind an app that falls back: every probe passes
    probes = [probe(9.95, True), *[probe(10.0 + 0.05 * i, True) for i in range(1, 60)],
              probe(13.2, True)]
    steps = [step("kill redis", Category.FAULT, 10.0, 10.01),
             step("restart redis", Category.RECOVERY, 13.0, 13.05)]
    rto = measure_rto(10.0, 10.01, probes, steps, SPEC)
    assert rto.seconds == 0.0 and not rto.outage_seen and rto.phases == ()
    assert rto.resolution_s == pytest.approx(13.2 - (10.0 + 0.05 * 59))  # the longest gap
    assert rto.first_good_mono == pytest.approx(13.201)  # after the procedure, as before


def test_a_crash_shorter_than_the_probe_interval_is_not_no_outage() -> None:
    # killed at 10.0, restarted by 10.06; the probe at 10.04 found it up again already
    probes = [probe(9.95, True), probe(10.04, True), probe(10.09, True)]
    steps = [step("kill redis", Category.FAULT, 10.0, 10.005),
             step("restart redis", Category.RECOVERY, 10.005, 10.06)]
    rto = measure_rto(10.0, 10.005, probes, steps, SPEC)
    assert rto.outage_seen
    assert rto.seconds == pytest.approx(0.091)  # known good from the first probe after it


def test_slow_answer_counts_as_down_freeze() -> None:
    # attempt blocked by a 3 s freeze: it answers, but slower than the probe timeout
    probes = [probe(9.99, True), probe(10.04, True, latency=2.97), probe(13.011, True)]
    steps = [step("freeze postgres", Category.FAULT, 10.0, 10.0),
             step("thaw postgres", Category.REVERT, 13.0, 13.003)]
    rto = measure_rto(10.0, 10.0, probes, steps, SPEC)
    assert rto.seconds == pytest.approx(3.012)
    assert [p.name for p in rto.phases][1:] == [
        "fault active", "revert: thaw postgres", "verification"]


def test_never_recovered() -> None:
    probes = [probe(10.0 + 0.05 * i, False) for i in range(1, 20)]
    rto = measure_rto(10.0, 10.0, probes, [], SPEC)
    assert rto.seconds is None and rto.resolution_s is None
    assert rto.observed_s == pytest.approx(0.951)
    assert rto.phases[-1].name == "not recovered"


def test_achieved_interval_is_the_median_gap() -> None:
    assert achieved_interval([probe(t, True) for t in (0.0, 0.05, 0.1, 0.4)]) == pytest.approx(0.05)
    assert achieved_interval([]) is None


def test_a_probe_passing_midway_through_the_procedure_does_not_end_the_outage() -> None:
    """A server restarted on a corrupted page answers new writes before its restore."""
    probes = [probe(9.95, True), probe(10.1, False), probe(10.5, True), probe(11.0, False),
              probe(12.1, True)]
    steps = [step("crash with a corrupted page", Category.FAULT, 10.0, 10.4),
             step("detect the disaster", Category.RECOVERY, 10.4, 10.6),
             step("restore base-1", Category.RECOVERY, 10.9, 12.0)]
    rto = measure_rto(10.0, 10.4, probes, steps, SPEC)
    assert rto.seconds == pytest.approx(2.101)
    assert rto.phases[-1].name == "verification"


def test_failures_late_in_a_reverted_fault_are_an_outage() -> None:
    # latency from 10 s to its revert at 20 s: the first probes pass, later ones fail
    probes = [probe(9.5, True), probe(10.5, True), probe(11.5, True),
              *[probe(12.0 + 0.5 * i, False) for i in range(13)], probe(20.5, True)]
    steps = [step("latency", Category.FAULT, 10.0, 10.002),
             step("end latency", Category.REVERT, 20.0, 20.002)]
    rto = measure_rto(10.0, 10.002, probes, steps, ProbeSpec(interval_s=0.5, timeout_s=1.0))
    assert rto.outage_seen and rto.failed_probes_after_fault == 13
    assert rto.seconds == pytest.approx(10.501)  # good again only after the revert
