"""Redis replication and Sentinel failover on the local runtime, against real servers.

A primary, a replica and Sentinels as local processes: writes go through the Sentinels'
endpoint (``sentinel:NAME``), the primary is killed, and the Sentinels must promote the
replica within a bound; with too few Sentinels for the quorum they must not, and waiting
for them ends with the reason. The figures (kill to +odown, to +switch-master, to the first
write acknowledged by the new primary) are printed for docs/failover-sentinel.md
(``-s``); ``DRILLS_FAILOVER_RUNS=N`` also runs ``test_failover_figures``, N failovers per
configuration, for the min, median and max given there.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drills.datastore import NotSent, Rejected
from drills.errors import RecoveryError, StackError
from drills.kinds.redis import store
from drills.kinds.redis.local import LocalRedis
from drills.kinds.redis.settings import RedisSettings
from drills.kinds.sentinel.local import LocalSentinel
from drills.kinds.sentinel.settings import SentinelSettings
from drills.kinds.sentinel.watch import SentinelWatch, client_endpoint
from drills.runtime.local import LocalRuntime
from drills.stack.stack import Stack
from tests.integration.conftest import processes_mentioning

pytestmark = pytest.mark.slow

DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


def sentinel_stack(tmp_path: Path, sentinels: int, quorum: int,
                   down_after_ms: int = DOWN_AFTER_MS,
                   failover_timeout_ms: int = FAILOVER_TIMEOUT_MS) -> Stack:
    """A primary ``redis``, its ``replica``, and Sentinels ``sentinel1``... watching it."""
    runtime = LocalRuntime("itest-sentinel", tmp_path / "logs")
    wanted: dict[str, object] = {"redis": RedisSettings(),
                                 "replica": RedisSettings(replica_of="redis")}
    for n in range(1, sentinels + 1):
        wanted[f"sentinel{n}"] = SentinelSettings(
            monitors="redis", quorum=quorum, down_after_ms=down_after_ms,
            failover_timeout_ms=failover_timeout_ms)
    return Stack(runtime, runtime.services(wanted))


@pytest.fixture
def closed_cleanly(tmp_path: Path) -> Iterator[list[Stack]]:
    """Stacks a test brings up: closed after it, and nothing of them may be left."""
    stacks: list[Stack] = []
    yield stacks
    for stack in stacks:
        workdir = stack.runtime.workdir  # type: ignore[attr-defined]
        assert stack.close() == []
        assert not workdir.exists()
        assert processes_mentioning(str(workdir)) == []


def sentinels_of(stack: Stack) -> list[SentinelWatch]:
    return [s for s in stack if isinstance(s, SentinelWatch)]


def write_until_acknowledged(writer: store.RedisWriter, first_id: int, timeout_s: float
                             ) -> tuple[int, float, dict[str, int]]:
    """Write new keys until one is acknowledged: (its id, monotonic time, refusals by kind)."""
    refused: dict[str, int] = {}
    op_id, deadline = first_id, time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        op_id += 1
        try:
            writer.write(op_id, f"after-{op_id}")
            return op_id, time.monotonic(), refused
        except Exception as exc:  # NotSent, Rejected; redis-py's own: outcome unknown
            refused[type(exc).__name__] = refused.get(type(exc).__name__, 0) + 1
        time.sleep(0.005)
    raise AssertionError(f"no write acknowledged within {timeout_s} s: {refused}")


@dataclass(frozen=True)
class Failover:
    """One kill of the primary and what followed, in seconds after the kill."""

    new_primary: tuple[str, int]
    first_id: int  # the first write acknowledged after the kill
    good_s: float  # kill -> that write acknowledged (by the new primary)
    events: dict[str, float]  # kill -> first arrival of each Sentinel event
    refused: dict[str, int]  # attempts before it, by outcome

    def line(self) -> str:
        shown = ", ".join(f"kill->{k} {v:.3f} s" for k, v in self.events.items()
                          if k in FIGURE_EVENTS)
        return f"{shown}, kill->first good write {self.good_s:.3f} s (before it: {self.refused})"


#: the Sentinel events the figures report, in the order they happen
FIGURE_EVENTS = ("+sdown", "+odown", "+elected-leader", "+promoted-slave", "+switch-master")


def kill_and_fail_over(stack: Stack, writer: store.RedisWriter) -> Failover:
    """SIGKILL the primary; write through the Sentinels until a write is acknowledged."""
    watching = sentinels_of(stack)
    old = watching[0].primary()
    assert old == (stack["redis"].endpoint.host, stack["redis"].endpoint.port)
    with watching[0].events() as events:
        t_fault = stack["redis"].kill().at.mono
        # writes from the kill on, as the load would: the first acknowledged one is the
        # new primary's (the old one is dead)
        first_id, t_good, refused = write_until_acknowledged(writer, 10_000, timeout_s=30)
        new = watching[0].wait_for_primary_change(old, timeout_s=30)
        events.wait_for("+switch-master", 5, after=t_fault)
        seen: dict[str, float] = {}
        for event in events.seen():
            seen.setdefault(event.channel, event.at.mono - t_fault)
    return Failover(new, first_id, t_good - t_fault, seen, refused)


@pytest.mark.parametrize(("sentinels", "quorum"), [(1, 1), (3, 2)])
def test_sentinels_fail_over_to_the_replica(tmp_path: Path, closed_cleanly: list[Stack],
                                            sentinels: int, quorum: int) -> None:
    stack = sentinel_stack(tmp_path, sentinels, quorum)
    closed_cleanly.append(stack)
    stack.up()
    primary, replica = stack["redis"], stack["replica"]
    watching = sentinels_of(stack)
    assert len(watching) == sentinels
    assert primary.endpoint.password == replica.endpoint.password  # one group, one password
    endpoint = client_endpoint(watching, primary)
    assert endpoint.discovery == "sentinel:drills" and len(endpoint.addresses()) == sentinels

    writer = store.writer(endpoint)
    try:
        for op_id in range(1, 201):
            writer.write(op_id, f"before-{op_id}")
        before = store.replication(primary.endpoint)
        assert before.role == "primary" and before.epoch
        assert [d.name for d in before.downstream] == [
            f"{replica.endpoint.host}:{replica.endpoint.port}"]
        lag = before.downstream[0].lag_bytes
        assert lag is not None and 0 <= lag <= (before.position or 0)
        deadline = time.monotonic() + 5
        while (seen := store.replication(replica.endpoint)).position != before.position:
            assert time.monotonic() < deadline, f"the replica never caught up: {seen}"
            time.sleep(0.01)
        assert seen.role == "replica" and seen.streaming
        assert seen.upstream == f"{primary.endpoint.host}:{primary.endpoint.port}"
        assert seen.epoch == before.epoch

        failover = kill_and_fail_over(stack, writer)
    finally:
        writer.close()
    print(f"\nFIGURES sentinels={sentinels} quorum={quorum} down_after_ms={DOWN_AFTER_MS} "
          f"failover_timeout_ms={FAILOVER_TIMEOUT_MS}: {failover.line()}")
    assert failover.new_primary == (replica.endpoint.host, replica.endpoint.port)
    odown, switch = failover.events.get("+odown"), failover.events.get("+switch-master")
    assert odown is not None and switch is not None, failover.events
    assert 0 < odown <= switch  # nothing before the kill: no failover of a healthy primary

    after = store.replication(replica.endpoint)
    assert after.role == "primary" and after.epoch != before.epoch
    found = dict(store.read_back(endpoint))
    assert all(found.get(i) == f"before-{i}" for i in range(1, 201))  # nothing acknowledged lost
    assert found[failover.first_id] == f"after-{failover.first_id}"
    assert store.identify(endpoint)["dir"] == str(replica.home)  # type: ignore[attr-defined]


@pytest.mark.skipif(not os.environ.get("DRILLS_FAILOVER_RUNS"),
                    reason="a measurement: set DRILLS_FAILOVER_RUNS=N to run it "
                           "(docs/failover-sentinel.md)")
@pytest.mark.parametrize(("sentinels", "quorum", "down_after_ms", "failover_timeout_ms"),
                         [(1, 1, 1000, 5000), (3, 2, 1000, 5000), (1, 1, 500, 3000),
                          (1, 1, 2000, 5000)])
def test_failover_figures(tmp_path: Path, sentinels: int, quorum: int, down_after_ms: int,
                          failover_timeout_ms: int) -> None:
    """The figures of docs/failover-sentinel.md: min, median and max over N failovers."""
    runs = []
    for n in range(int(os.environ["DRILLS_FAILOVER_RUNS"])):
        stack = sentinel_stack(tmp_path / str(n), sentinels, quorum, down_after_ms,
                               failover_timeout_ms)
        try:
            stack.up()
            writer = store.writer(client_endpoint(sentinels_of(stack), stack["redis"]))
            try:
                for op_id in range(1, 101):
                    writer.write(op_id, f"before-{op_id}")
                runs.append(kill_and_fail_over(stack, writer))
            finally:
                writer.close()
        finally:
            assert stack.close() == []
    print(f"\nFIGURES sentinels={sentinels} quorum={quorum} down_after_ms={down_after_ms} "
          f"failover_timeout_ms={failover_timeout_ms} runs={len(runs)} (s after the kill)")
    columns = {**{k: [r.events[k] for r in runs if k in r.events] for k in FIGURE_EVENTS},
               "first good write": [r.good_s for r in runs]}
    for name, values in columns.items():
        if values:
            print(f"  {name:18} min {min(values):.3f}  median {statistics.median(values):.3f}"
                  f"  max {max(values):.3f}  (in {len(values)} of {len(runs)} runs)")
    assert all(0 < r.events.get("+odown", 0) <= r.good_s + 1 for r in runs)


def test_promote_makes_a_plain_replica_writable(tmp_path: Path,
                                                closed_cleanly: list[Stack]) -> None:
    runtime = LocalRuntime("itest-promote", tmp_path / "logs")
    stack = Stack(runtime, runtime.services({"redis": RedisSettings(),
                                             "replica": RedisSettings(replica_of="redis")}))
    closed_cleanly.append(stack)
    stack.up()
    primary, replica = stack["redis"], stack["replica"]
    assert isinstance(replica, LocalRedis)
    writer = store.writer(replica.endpoint)
    try:
        with pytest.raises(Rejected, match="read only replica"):
            writer.write(1, "refused by a replica")
        with pytest.raises(StackError, match="already a primary"):
            store.promote(primary.endpoint)
        primary.kill()
        did = store.promote(replica.endpoint, timeout_s=10)
        assert "REPLICAOF NO ONE" in did and "written to its configuration file" in did
        writer.write(2, "accepted by the promoted replica")
    finally:
        writer.close()
    assert store.replication(replica.endpoint).role == "primary"
    assert dict(store.read_back(replica.endpoint)) == {2: "accepted by the promoted replica"}
    assert "replicaof" not in replica.conf_path.read_text()  # a restart keeps it primary
    assert replica.home.stat().st_mode & 0o077 == 0  # the rewritten file holds the password


def test_a_replica_is_ready_only_once_its_link_is_up(tmp_path: Path,
                                                     closed_cleanly: list[Stack]) -> None:
    runtime = LocalRuntime("itest-link", tmp_path / "logs")
    stack = Stack(runtime, runtime.services({"redis": RedisSettings(),
                                             "replica": RedisSettings(replica_of="redis")}))
    closed_cleanly.append(stack)
    replica = stack["replica"]
    replica.start()  # its primary never started
    with pytest.raises(StackError, match="whose link is down"):
        replica.wait_ready(timeout=1.5)


def test_a_quorum_that_cannot_be_reached_never_fails_over(tmp_path: Path,
                                                          closed_cleanly: list[Stack]) -> None:
    stack = sentinel_stack(tmp_path, sentinels=1, quorum=2)
    closed_cleanly.append(stack)
    stack.up()
    primary, replica = stack["redis"], stack["replica"]
    (sentinel,) = sentinels_of(stack)
    assert isinstance(sentinel, LocalSentinel)
    old = sentinel.primary()
    assert old is not None
    primary.kill()
    started = time.monotonic()
    with pytest.raises(RecoveryError) as info:
        sentinel.wait_for_primary_change(old, timeout_s=4)
    waited = time.monotonic() - started
    assert 4 <= waited < 8, waited  # bounded: it ends, it does not hang
    reason = str(info.value)
    print(f"\nREASON {reason}")
    assert "NOQUORUM" in reason and "+sdown master drills" in reason, reason
    assert "+odown" not in reason and "+switch-master" not in reason, reason
    assert sentinel.primary() == old
    assert store.replication(replica.endpoint).role == "replica"
    writer = store.writer(client_endpoint([sentinel], primary))
    with pytest.raises(NotSent, match="No master found"):  # no Sentinel names one it sees up
        writer.write(1, "nowhere to go")
    writer.close()
