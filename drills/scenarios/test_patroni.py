"""Patroni: the hot-standby path for PostgreSQL, failed over by the HA manager itself.

etcd (the DCS), two Patroni members and HAProxy in front of them, forwarding to the
member whose REST API says it is the primary; the clients (load and probe) go through
HAProxy, the usual single address of a Patroni cluster. The drill does not promote
anything: it observes Patroni do it, each step an RTO phase.

patroni-failover     SIGKILL the leader's node (Patroni and its PostgreSQL): the leader key
                     expires after ttl (detection), a replica takes it and is promoted
                     (election and promotion), HAProxy routes to it (clients reconnected),
                     first good probe. synchronous_mode: nothing acknowledged may be lost.
patroni-switchover   a planned switchover (Patroni's REST API): the leader demoted cleanly,
                     the replica promoted; nothing acknowledged may be lost, and the outage
                     is the maintenance window's.
"""

from __future__ import annotations

import pytest

from drills import Drill, Kill, Replicated, Repoint, Verdict
from drills.datastore import store_for
from drills.faults.planned import Switchover
from drills.kinds.etcd import EtcdSettings
from drills.kinds.haproxy import HaproxySettings
from drills.kinds.patroni import PatroniSettings
from drills.kinds.patroni.member import PatroniMember
from drills.record.action import Action
from drills.record.clock import Instant
from drills.recovery.ha import Observe
from drills.stack.service import Service


def patroni_stack(drill: Drill) -> tuple[PatroniMember, PatroniMember, Replicated]:
    """etcd, two members, HAProxy; returns (leader, replica, the clients' address)."""
    ttl = int(drill.scenario.params["ttl"])
    member = PatroniSettings(synchronous_mode=True, ttl=ttl)
    stack = drill.stack(etcd=EtcdSettings(), pg1=member, pg2=member,
                        haproxy=HaproxySettings(backends=("pg1", "pg2")))
    pg1, pg2 = stack["pg1"], stack["pg2"]
    assert isinstance(pg1, PatroniMember) and isinstance(pg2, PatroniMember)
    leader_name = pg1.wait_for_leader(drill.scenario.recovery_timeout_s)
    leader, replica = (pg1, pg2) if leader_name == pg1.name else (pg2, pg1)
    # a commit is synchronous only once Patroni has named the synchronous standby
    wait_for_sync(leader, replica, drill.scenario.recovery_timeout_s)
    cluster = Replicated("cluster", [leader, replica], stack["haproxy"].endpoint)
    return leader, replica, cluster


def wait_for_sync(leader: PatroniMember, replica: PatroniMember, timeout_s: float) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while replica.name not in leader.sync_standbys():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Patroni did not make {replica.name} a synchronous standby "
                               f"within {timeout_s:g} s: {leader.why_no_leader()}")
        time.sleep(0.2)


def new_leader(old: PatroniMember, replica: PatroniMember) -> Observe:
    """Detection and election: a replica holds the leader key and leads (Patroni's account)."""
    def watch(timeout_s: float) -> Action | None:
        try:
            name = replica.wait_for_leader(timeout_s, other_than=old.name, interval_s=0.05)
        except Exception:
            return None
        return Action(f"Patroni: {name} holds the leader key and runs as the leader",
                      Instant.now(), {"leader": name})

    return Observe("patroni: a new leader elected and promoted", watch, replica.why_no_leader)


def writable(member: Service) -> Observe:
    """The promoted member accepts writes (its own PostgreSQL says so)."""
    def watch(timeout_s: float) -> Action | None:
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if store_for(member.kind).replication(member.endpoint).role == "primary":  # type: ignore[attr-defined]
                    return Action(f"{member.name} accepts writes (pg_is_in_recovery false)",
                                  Instant.now())
            except Exception:
                pass
            time.sleep(0.05)
        return None

    return Observe(f"{member.name} accepts writes", watch,
                   lambda: f"{member.name} is still in recovery or does not answer")


def run_patroni_failover(drill: Drill) -> None:
    leader, replica, cluster = patroni_stack(drill)
    kill = Kill(leader)
    with drill.load(cluster):
        drill.watch_replication(leader, replica)
        drill.warm_up()
        with drill.fault(kill):
            drill.recover(new_leader(leader, replica), phase="detection")
            drill.recover(writable(replica), phase="promotion")
            drill.recover(Repoint(cluster, replica))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("patroni-failover")
def test_patroni_failover(drill: Drill) -> None:
    run_patroni_failover(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()


def run_patroni_switchover(drill: Drill) -> None:
    leader, replica, cluster = patroni_stack(drill)
    switch = Switchover(leader, replica)
    with drill.load(cluster):
        drill.watch_replication(leader, replica)
        drill.warm_up()
        with drill.fault(switch):
            drill.recover(writable(replica), phase="promotion")
            drill.recover(Repoint(cluster, replica))
        drill.wait_for_service()
        drill.hold()


@pytest.mark.drill("patroni-switchover")
def test_patroni_switchover(drill: Drill) -> None:
    run_patroni_switchover(drill)
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
