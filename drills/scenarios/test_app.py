"""The full stack: HTTP load on the reference app, PostgreSQL and Redis behind Toxiproxy.

Every drill here loads the app over HTTP (Locust's FastHttpUser), probes it at the app
(a write through the app, read back through the app) for the RTO, and reads the writes
back from PostgreSQL itself for the RPO: what the system of record holds, not what the
app says.

app-postgres-kill        SIGKILL PostgreSQL behind the app; restart it
app-redis-kill           SIGKILL Redis behind the app, down for down_s; the app serves from
                         PostgreSQL meanwhile
app-postgres-latency     latency on every answer from PostgreSQL to the app, then removed
app-postgres-partition   the app's link to PostgreSQL cut for partition_s: calibrates the RTO
app-postgres-blackhole   the same link a black hole for partition_s: writes in flight in doubt
app-kill                 SIGKILL the app itself; restart it
"""

from __future__ import annotations

import pytest

from drills import (
    AppSettings,
    Drill,
    Kill,
    Latency,
    Partition,
    PostgresSettings,
    RedisSettings,
    Restart,
    ToxiproxySettings,
    Verdict,
)
from drills.stack.capabilities import CarriesLinks, require
from drills.stack.stack import Stack


def full_stack(drill: Drill) -> Stack:
    """PostgreSQL, Redis (AOF), Toxiproxy, and the app reaching both through Toxiproxy."""
    return drill.stack(postgres=PostgresSettings(), redis=RedisSettings(appendonly=True),
                       toxiproxy=ToxiproxySettings(), app=AppSettings())


def run_store_kill(drill: Drill, victim: str, down_s: float = 0.0) -> None:
    stack = full_stack(drill)
    app, target = stack["app"], stack[victim]
    kill = Kill(target)
    with drill.load(app, store=stack["postgres"]):
        drill.warm_up()
        with drill.fault(kill):
            if down_s:
                drill.wait(down_s, f"{victim} down")
            drill.recover(Restart(target))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("app-postgres-kill")
def test_app_postgres_kill(drill: Drill) -> None:
    run_store_kill(drill, "postgres")
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("app-redis-kill")
def test_app_redis_kill(drill: Drill) -> None:
    run_store_kill(drill, "redis", float(drill.scenario.params["down_s"]))
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("app-kill")
def test_app_kill(drill: Drill) -> None:
    stack = full_stack(drill)
    app = stack["app"]
    kill = Kill(app)
    with drill.load(app, store=stack["postgres"]):
        drill.warm_up()
        with drill.fault(kill):
            drill.recover(Restart(app))
        drill.wait_for_service()
        drill.hold()
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("app-postgres-latency")
def test_app_postgres_latency(drill: Drill) -> None:
    params = drill.scenario.params
    stack = full_stack(drill)
    link = require(stack["toxiproxy"], CarriesLinks, "add latency").link("app", "postgres")
    lag = Latency(link, int(params["latency_ms"]), int(params["jitter_ms"]))
    with drill.load(stack["app"], store=stack["postgres"]):
        drill.warm_up()
        with drill.fault(lag):
            drill.wait(float(params["duration_s"]), "slow link")
        drill.wait_for_service()
        drill.hold()
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


def run_partition(drill: Drill, kind: str) -> None:
    partition_s = float(drill.scenario.params["partition_s"])
    stack = full_stack(drill)
    link = require(stack["toxiproxy"], CarriesLinks, "cut a link").link("app", "postgres")
    cut = Partition(link, "down" if kind == "down" else "timeout")
    with drill.load(stack["app"], store=stack["postgres"]):
        drill.warm_up()
        with drill.fault(cut):
            drill.wait(partition_s, "partitioned")
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("app-postgres-partition")
def test_app_postgres_partition(drill: Drill) -> None:
    drill.calibrate_rto(tolerance_s=2 * drill.scenario.probe.interval_s)
    run_partition(drill, "down")
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


@pytest.mark.drill("app-postgres-blackhole")
def test_app_postgres_blackhole(drill: Drill) -> None:
    run_partition(drill, "timeout")
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
