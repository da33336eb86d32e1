"""A Patroni cluster on the local runtime: etcd, two members, HAProxy in front.

Kill the leader's process tree (Patroni and its PostgreSQL: a node loss) and measure how
long until a write through HAProxy is acknowledged again, on the other member, with no
write lost that was acknowledged before the kill (synchronous_mode). Without etcd, no
member may become the leader, and waiting for one ends in bounded time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drills.datastore import NotSent, Rejected
from drills.errors import RecoveryError, ServiceNotReady
from drills.kinds.etcd import EtcdSettings
from drills.kinds.etcd.local import LocalEtcd
from drills.kinds.haproxy import HaproxySettings
from drills.kinds.haproxy.local import LocalHaproxy
from drills.kinds.patroni import PatroniSettings
from drills.kinds.patroni.local import LocalPatroni
from drills.kinds.postgres import store
from drills.record.clock import Instant
from drills.runtime.local import LocalRuntime
from drills.stack.local_service import LocalService
from drills.stack.process import descendants
from drills.stack.stack import Stack
from tests.integration.conftest import processes_mentioning, wait_until

pytestmark = pytest.mark.slow

for _tool in ("etcd", "patroni", "haproxy"):
    if not (Path("/usr/sbin") / _tool).exists() and not (Path("/usr/bin") / _tool).exists():
        pytest.skip(f"{_tool} is not installed (apt-get install etcd-server patroni haproxy)",
                    allow_module_level=True)


@dataclass
class Cluster:
    stack: Stack
    etcd: LocalEtcd
    members: tuple[LocalPatroni, LocalPatroni]
    lb: LocalHaproxy

    def member(self, name: str) -> LocalPatroni:
        return next(m for m in self.members if m.name == name)


def make_cluster(tmp_path: Path, run_id: str, synchronous: bool) -> Iterator[Cluster]:
    runtime = LocalRuntime(run_id, tmp_path / "logs")
    settings = PatroniSettings(synchronous_mode=synchronous)
    stack = Stack(runtime, runtime.services({
        "etcd": EtcdSettings(), "pg1": settings, "pg2": settings,
        "lb": HaproxySettings(backends=("pg1", "pg2")),
    }))
    try:
        stack.up(timeout=120)
        etcd, pg1, pg2, lb = (stack[n] for n in ("etcd", "pg1", "pg2", "lb"))
        assert isinstance(etcd, LocalEtcd) and isinstance(lb, LocalHaproxy)
        assert isinstance(pg1, LocalPatroni) and isinstance(pg2, LocalPatroni)
        yield Cluster(stack, etcd, (pg1, pg2), lb)
    finally:
        stack.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    yield from make_cluster(tmp_path, "itest-patroni", synchronous=True)


def tree(service: LocalService) -> set[tuple[int, str]]:
    """(pid, start time) of every process of a running service: no pid reuse confusion."""
    pid = service.proc.pid
    assert pid is not None
    return {(p, start) for p in [pid, *descendants(pid)] if (start := _start(p))}


def _start(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def running(processes: set[tuple[int, str]]) -> list[int]:
    """Those of ``processes`` that still run (zombies waiting for their reaper do not)."""
    left = []
    for pid, start in processes:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and fields[19] == start:
            left.append(pid)
    return left


@dataclass
class Op:
    id: int
    outcome: str  # ok / fail / unknown
    invoked: float
    completed: float


class Load(threading.Thread):
    """Writes through HAProxy one after another, recording every outcome."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(daemon=True)
        self.endpoint = cluster.lb.endpoint
        self.ops: list[Op] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        writer = store.writer(self.endpoint)
        op_id = 0
        while not self.stopping.is_set():
            op_id += 1
            invoked = time.monotonic()
            try:
                writer.write(op_id, f"v{op_id}")
                outcome = "ok"
            except (NotSent, Rejected):
                outcome = "fail"
            except Exception:
                outcome = "unknown"
            self.ops.append(Op(op_id, outcome, invoked, time.monotonic()))
            if outcome != "ok":
                time.sleep(0.02)
        writer.close()

    def first_ok_after(self, t: float) -> Op | None:
        return next((op for op in self.ops if op.outcome == "ok" and op.invoked > t), None)


def test_leader_loss_fails_over_through_haproxy_without_losing_acknowledged_writes(
    cluster: Cluster,
) -> None:
    pg1, pg2 = cluster.members
    # the replica is a synchronous standby before any write counts
    wait_until("a synchronous standby", lambda: pg1.sync_standbys(), 30)
    old = cluster.member(pg1.leader() or "?")
    survivor = pg2 if old is pg1 else pg1
    assert cluster.lb.up() == [old.name]
    store.prepare(cluster.lb.endpoint)
    assert store.identify(cluster.lb.endpoint)["data_directory"] == old.data_directory

    load = Load(cluster)
    load.start()
    wait_until("writes acknowledged", lambda: sum(op.outcome == "ok" for op in load.ops) > 200,
               30)
    victims = tree(old)
    assert any("postgres" in Path(f"/proc/{p}/cmdline").read_text() for p, _ in victims), \
        "the leader's PostgreSQL is not in Patroni's process tree"
    killed = old.kill()
    t_fault = killed.at.mono
    assert old.wait_exit(10)
    wait_until("the old leader's whole tree gone", lambda: not running(victims), 10)

    new = survivor.wait_for_leader(90, other_than=old.name, interval_s=0.05)
    t_leader = time.monotonic()
    assert new == survivor.name
    wait_until("a write through HAProxy after the kill",
               lambda: load.first_ok_after(t_fault) is not None, 60)
    load.stopping.set()
    load.join(10)
    first = load.first_ok_after(t_fault)
    assert first is not None

    found = store.identify(cluster.lb.endpoint)
    assert found["data_directory"] == survivor.data_directory != old.data_directory
    assert cluster.lb.up() == [survivor.name]

    present = {i for i, _ in store.read_back(cluster.lb.endpoint)}
    acknowledged = {op.id for op in load.ops if op.outcome == "ok" and op.completed < t_fault}
    assert acknowledged - present == set(), "acknowledged writes lost in the failover"
    after = [op for op in load.ops if op.invoked >= t_fault]
    print(f"\nFAILOVER ttl={pg1.settings.ttl} loop_wait={pg1.settings.loop_wait} "
          f"retry_timeout={pg1.settings.retry_timeout}: kill -> new leader "
          f"{t_leader - t_fault:.2f} s (resolution 0.05 s), kill -> first write through "
          f"HAProxy {first.completed - t_fault:.2f} s; {len(acknowledged)} acknowledged "
          f"before, none lost; {sum(op.outcome == 'unknown' for op in load.ops)} unknown, "
          f"{sum(op.outcome == 'fail' for op in after)} refused during the outage; "
          f"{old.name} -> {survivor.name}")

    # the lost node comes back: Patroni rewinds it and it follows the new leader
    began = time.monotonic()
    old.restart(timeout=120)
    assert old.rest_state()["role"] == "replica"
    assert survivor.leader() == survivor.name
    print(f"REJOIN {old.name} restarted -> streaming replica in "
          f"{time.monotonic() - began:.2f} s")


def test_close_leaves_no_process_of_the_run(tmp_path: Path) -> None:
    made = make_cluster(tmp_path, "itest-patroni-close", synchronous=False)
    cluster = next(made)
    workdir = cluster.stack.runtime.workdir  # type: ignore[attr-defined]
    processes: set[tuple[int, str]] = set()
    for service in cluster.stack:
        assert isinstance(service, LocalService)
        processes |= tree(service)
    commands = " ".join(Path(f"/proc/{p}/cmdline").read_text() for p, _ in processes)
    for program in ("etcd", "patroni", "haproxy", "postgres"):
        assert program in commands, program
    with pytest.raises(StopIteration):
        next(made)  # closes the stack
    assert running(processes) == []
    assert processes_mentioning(str(workdir)) == []


def test_without_etcd_no_leader_is_elected_and_waiting_ends(tmp_path: Path) -> None:
    made = make_cluster(tmp_path, "itest-patroni-nodcs", synchronous=False)
    cluster = next(made)
    try:
        old = cluster.member(cluster.members[0].leader() or "?")
        survivor = next(m for m in cluster.members if m is not old)
        cluster.etcd.kill()
        assert cluster.etcd.wait_exit(10)
        old.kill()
        assert old.wait_exit(10)
        began = time.monotonic()
        timeout_s = old.settings.ttl + 5.0  # a leader would have been elected by then
        with pytest.raises(RecoveryError) as info:
            survivor.wait_for_leader(timeout_s, other_than=old.name)
        waited = time.monotonic() - began
        assert timeout_s <= waited < timeout_s + 5.0
        said = str(info.value)
        assert f"etcd {cluster.etcd.name} unreachable" in said
        assert f"{old.name}: REST API does not answer" in said
        assert f"{survivor.name}: role replica" in said
        assert survivor.rest_state()["role"] == "replica"
    finally:
        made.close()


def test_switchover_moves_the_leader(cluster: Cluster) -> None:
    from drills.kinds.patroni.member import switchover

    pg1, pg2 = cluster.members
    old = cluster.member(pg1.leader() or "?")
    target = pg2 if old is pg1 else pg1
    # synchronous_mode: Patroni switches over only to the synchronous standby
    wait_until("a synchronous standby", lambda: pg1.sync_standbys() == [target.name], 30)
    action = switchover(pg1, target)
    assert action.facts["to"] == target.name
    assert target.wait_for_leader(60) == target.name
    routed = wait_until("HAProxy on the new leader only",
                        lambda: cluster.lb.up() == [target.name], 10)
    print(f"\nSWITCHOVER {old.name} -> {target.name}: POST /switchover answered in "
          f"{action.facts['took_s']:.2f} s; HAProxy on the new leader only "
          f"{routed:.2f} s later")
    assert store.identify(cluster.lb.endpoint)["data_directory"] == target.data_directory
    assert Instant.now().mono >= action.at.mono


def test_a_member_without_its_dcs_is_not_ready_and_says_why(tmp_path: Path) -> None:
    runtime = LocalRuntime("itest-patroni-nodcs-start", tmp_path / "logs")
    services = runtime.services({"etcd": EtcdSettings(), "pg1": PatroniSettings()})
    stack = Stack(runtime, services)
    try:
        member = services["pg1"]
        member.start()  # its etcd never started
        with pytest.raises(ServiceNotReady) as info:
            member.wait_ready(timeout=3)
        said = str(info.value)
        assert "etcd etcd on 127.0.0.1:" in said and "is unreachable" in said
        assert "starts no PostgreSQL until it answers" in said
    finally:
        stack.close()
