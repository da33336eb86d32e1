"""postgres-freeze: SIGSTOP PostgreSQL for freeze_s seconds, SIGCONT, no restart.

This calibrates the RTO clock: the outage is known exactly (from the instant the freeze
took effect to the instant the thaw did, as the timeline records them), so the measured
RTO must equal it within two probe intervals, or the run's RTO figures are not trusted.
"""

import pytest

from drills import Drill, Freeze, PostgresSettings, Verdict


def run_postgres_freeze(drill: Drill) -> None:
    freeze_s = float(drill.scenario.params["freeze_s"])
    pg = drill.stack(postgres=PostgresSettings())["postgres"]
    freeze = Freeze(pg)
    drill.calibrate_rto(tolerance_s=2 * drill.scenario.probe.interval_s)
    with drill.load(pg):
        drill.warm_up()
        with drill.fault(freeze):
            drill.wait(freeze_s, "frozen")
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("postgres-freeze")
def test_postgres_freeze(drill: Drill) -> None:
    run_postgres_freeze(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
