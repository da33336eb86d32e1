"""postgres-freeze: SIGSTOP PostgreSQL for freeze_s seconds, SIGCONT, no restart.

This calibrates the RTO clock: the outage is known exactly, so the measured RTO must
equal freeze_s within two probe intervals, or the run's RTO figures are not trusted.
"""

import pytest

from drills import Drill, Freeze, PostgresSettings, Verdict


def run_postgres_freeze(drill: Drill) -> None:
    freeze_s = float(drill.scenario.params["freeze_s"])
    pg = drill.stack(postgres=PostgresSettings())["postgres"]
    drill.calibrate_rto(expected_s=freeze_s, tolerance_s=2 * drill.scenario.probe.interval_s)
    with drill.load(pg):
        drill.warm_up()
        with drill.fault(Freeze(pg)):
            drill.wait(freeze_s, "frozen")
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("postgres-freeze")
def test_postgres_freeze(drill: Drill) -> None:
    run_postgres_freeze(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
