"""Redis Sentinel failover: the hot-standby path for Redis, done by the HA manager itself.

A primary and a replica (AOF everysec on both) watched by one Sentinel (quorum 1). The
clients (load and probe) ask the Sentinel where the primary is (redis-py's
``Sentinel.master_for``), as an application using Sentinel does. SIGKILL the primary;
the drill does not promote anything: it observes the Sentinel notice (+odown: detection),
fail over (+switch-master: election and promotion), and then the clients reach the new
primary. Each is an RTO phase. Writes the replica had not received are lost, beside the
lag at the fault; a Sentinel that never fails over ends the drill "fail" with its reason.

redis-sentinel-failover   down_after_ms before the Sentinel calls the primary down
"""

from __future__ import annotations

import pytest

from drills import Drill, Kill, RedisSettings, Replicated, Repoint, Verdict
from drills.kinds.sentinel.settings import SentinelSettings
from drills.kinds.sentinel.watch import SentinelEvents, SentinelWatch, client_endpoint
from drills.record.action import Action
from drills.recovery.ha import Observe


def sentinel_event(events: SentinelEvents, channel: str, after: float) -> Observe:
    """A step that ends when the Sentinel publishes ``channel`` (after monotonic ``after``)."""
    sentinel = events.sentinel

    def watch(timeout_s: float) -> Action | None:
        seen = events.wait_for(channel, timeout_s, after)
        if seen is None:
            return None
        return Action(f"Sentinel {sentinel.name} published {channel} {seen.message}", seen.at,
                      {"event": seen.to_dict()})

    def why_not() -> str:
        primary = sentinel.primary() if sentinel.alive() else None
        named = f"{primary[0]}:{primary[1]}" if primary else "none"
        return (f"events seen: {', '.join(e.channel for e in events.seen()) or 'none'}; "
                f"the Sentinel names the primary {named}; CKQUORUM: {sentinel.ckquorum()}")

    return Observe(f"{sentinel.name}: {channel}", watch, why_not)


def run_sentinel_failover(drill: Drill) -> None:
    down_after_ms = int(drill.scenario.params["down_after_ms"])
    stack = drill.stack(
        redis=RedisSettings(appendonly=True), replica=RedisSettings(replica_of="redis"),
        sentinel=SentinelSettings(monitors="redis", quorum=int(drill.scenario.params["quorum"]),
                                  down_after_ms=down_after_ms,
                                  failover_timeout_ms=max(3000, 3 * down_after_ms)))
    primary, replica, sentinel = stack["redis"], stack["replica"], stack["sentinel"]
    assert isinstance(sentinel, SentinelWatch)
    cluster = Replicated("cluster", [primary, replica], client_endpoint([sentinel], primary))
    kill = Kill(primary)
    with drill.load(cluster), sentinel.events() as events:
        drill.watch_replication(primary, replica)
        drill.warm_up()
        with drill.fault(kill):
            t_fault = kill_instant(drill)
            drill.recover(sentinel_event(events, "+odown", t_fault), phase="detection")
            drill.recover(sentinel_event(events, "+switch-master", t_fault),
                          phase="promotion")
            drill.recover(Repoint(cluster, replica))
        drill.wait_for_service()
        drill.hold()


def kill_instant(drill: Drill) -> float:
    """The monotonic instant the fault took effect (events before it are not the failover's)."""
    at = drill.fault_started()
    assert at is not None
    return at


@pytest.mark.drill("redis-sentinel-failover")
def test_redis_sentinel_failover(drill: Drill) -> None:
    run_sentinel_failover(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
