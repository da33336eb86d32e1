"""One contract every data kind keeps, on both runtimes, against a real server.

The kinds are those of the registry that hold drills' ledger and run alone
(``ServiceKind.standalone_store``): a kind added to the registry is tested here without a
line of this file changed. Each (kind, runtime) gets one server with the kind's default
settings, which goes through the tests below in order: start and identity; writes under
load and the probe; an exact read-back; a kill and restart that keeps every acknowledged
write; freeze and thaw; exec; a delete behind the workload's back; lost data; teardown.

What one kind or one runtime does beyond this (psql through exec, data checksums, restart
policies) stays in test_local_runtime.py and test_compose_runtime.py.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from drills import kinds
from drills.datastore import DataStore, LedgerGone, NotSent, ProbeFailed, Rejected
from drills.errors import NotOurServer
from drills.kinds.base import ServiceKind
from drills.runtime import choose
from drills.stack import engine
from drills.stack.capabilities import Exec, HasDataVolume, Killable, Pausable, require
from drills.stack.ownership import process_start_ticks
from drills.stack.service import Service
from drills.stack.stack import Stack
from drills.stack.workdir import PROCESSES_FILE
from tests.integration.conftest import labelled, processes_in, processes_mentioning

KINDS = [kind for kind in kinds.all_kinds() if kind.standalone_store]
RUNTIMES = ("local", "compose")
CASES = [pytest.param((kind, runtime), id=f"{kind.name}-{runtime}",
                      marks=[pytest.mark.compose] if runtime == "compose" else [])
         for kind in KINDS for runtime in RUNTIMES]

#: what a fault's action says it did, on each runtime, whatever the kind
MECHANISM = {
    "local": {"kill": "SIGKILL", "freeze": "SIGSTOP", "thaw": "SIGCONT",
              "lose_data": "removed its directory"},
    "compose": {"kill": "crash", "freeze": "docker pause", "thaw": "docker unpause",
                "lose_data": "data volume"},
}
WRITERS, EACH = 4, 100  # the load: a few hundred writes on concurrent connections
START_S = 90.0  # a first start initialises the data (initdb in a container: ~10 s)


@dataclass
class Subject:
    """One server of one kind on one runtime, and what the test knows its ledger holds."""

    kind: ServiceKind
    runtime: str
    stack: Stack
    store: DataStore
    run_id: str
    workdir: Path
    #: id -> value of every write the ledger must hold now
    held: dict[int, str] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    probes: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    token: str = field(default_factory=lambda: secrets.token_hex(4))
    closed: bool = False

    @property
    def service(self) -> Service:
        return self.stack[self.kind.name]

    @property
    def where(self) -> str:
        return f"kind {self.kind.name} on the {self.runtime} runtime"

    def value(self, op_id: int) -> str:
        return f"{self.kind.name}-{op_id}-{self.token}"

    def read_back(self) -> dict[int, str]:
        found: dict[int, str] = {}
        for op_id, value in self.store.read_back(self.service.endpoint):
            assert op_id not in found, f"{self.where}: the read-back gave id {op_id} twice"
            found[op_id] = value
        return found

    def probe(self, timeout_s: float = 10.0) -> None:
        """One probe attempt on a new probe; it must pass within ``timeout_s``."""
        probe = self.store.probe(self.service.endpoint)
        began = time.monotonic()
        try:
            probe.attempt(next(self.probes))
        finally:
            probe.close()
        took = time.monotonic() - began
        assert took < timeout_s, f"{self.where}: a probe took {took:.1f} s"

    def restart(self) -> None:
        self.service.start()
        self.service.wait_ready(START_S)


def recorded_processes(workdir: Path) -> list[dict[str, Any]]:
    """The processes the local runtime recorded starting (drills.stack.workdir)."""
    lines = (workdir / PROCESSES_FILE).read_text().splitlines()
    return [json.loads(line) for line in lines]


def still_running(pid: int, start: int) -> bool:
    """Whether the process recorded as ``pid`` started at ``start`` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return process_start_ticks(pid) == start and state != "Z"


def compare(where: str, expected: dict[int, str], found: dict[int, str]) -> None:
    """Fail naming the ids missing, unexpected and changed, if the two differ."""
    missing = sorted(expected.keys() - found.keys())
    extra = sorted(found.keys() - expected.keys())
    changed = sorted(i for i in expected.keys() & found.keys() if expected[i] != found[i])
    assert not (missing or extra or changed), (
        f"{where}: read back {len(found)} writes, expected {len(expected)}; missing "
        f"{missing[:20]}, unexpected {extra[:20]}, changed {changed[:20]}")


class Load:
    """Concurrent writers, each its own ``store.writer``; every write's outcome recorded.

    A writer stops at its first write that is not acknowledged (its server is gone), or
    after ``each`` writes (waited for at the end of the ``with``), or when the load without
    ``each`` ends.
    """

    def __init__(self, subject: Subject, writers: int = WRITERS, each: int | None = None):
        self.subject = subject
        self.each = each
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.invoked: dict[int, str] = {}
        self.acked: dict[int, str] = {}
        self.not_acked: dict[int, str] = {}  # id -> how it failed (fail or unknown)
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(writers)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.each is None or exc_type is not None:
            self.stop.set()
        for thread in self.threads:
            thread.join(30)
        hung = [t for t in self.threads if t.is_alive()]
        assert not hung, f"{self.subject.where}: {len(hung)} writers still hang 30 s after stop"

    def wait_acked(self, count: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.acked) < count:
            assert time.monotonic() < deadline, (
                f"{self.subject.where}: {len(self.acked)} writes acknowledged in "
                f"{timeout_s:.0f} s, waited for {count}; {self.errors or self.not_acked}")
            time.sleep(0.01)

    def _run(self) -> None:
        subject = self.subject
        try:
            writer = subject.store.writer(subject.service.endpoint)
        except Exception as exc:  # reported by the test, never raised in a thread
            self.errors.append(f"store.writer: {type(exc).__name__}: {exc}")
            return
        try:
            for _ in range(self.each) if self.each is not None else itertools.count():
                if self.stop.is_set():
                    return
                with self.lock:
                    op_id = next(subject.ids)
                    self.invoked[op_id] = value = subject.value(op_id)
                try:
                    writer.write(op_id, value)
                except Exception as exc:
                    outcome = "fail" if isinstance(exc, NotSent | Rejected) else "unknown"
                    self.not_acked[op_id] = f"{outcome}: {type(exc).__name__}: {exc}"
                    return
                self.acked[op_id] = value
        finally:
            try:
                writer.close()
            except Exception as exc:
                self.errors.append(f"writer.close: {type(exc).__name__}: {exc}")


@pytest.fixture(scope="module", params=CASES)
def subject(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Subject]:
    kind, runtime = request.param
    run_id = f"itest-conform-{kind.name}-{runtime}"
    made = choose.factory(runtime)(run_id, tmp_path_factory.mktemp(run_id) / "logs")
    stack = Stack(made, made.services({kind.name: kind.settings_type()}))
    found = Subject(kind, runtime, stack, kind.store(), run_id, made.workdir)  # type: ignore[attr-defined]
    try:
        stack.up(timeout=START_S)
        yield found
    finally:
        if not found.closed:
            stack.close()


# -- 1. start, ready, identity ---------------------------------------------------------


def test_starts_ready_and_proves_its_identity(subject: Subject) -> None:
    service = subject.service
    assert service.alive()
    found = dict(service.identify())
    assert found and all(isinstance(v, str) for v in found.values()), (subject.where, found)
    assert found.get("version"), f"{subject.where}: identify() does not name the server's " \
                                 f"version (the report says which server answered): {found}"
    for key, value in found.items():  # any expectation it does not meet: not our server
        with pytest.raises(NotOurServer):
            subject.store.identify(service.endpoint, {key: f"not {value}"})
    described = service.describe()
    assert (described["service"], described["kind"], described["runtime"]) == \
           (subject.kind.name, subject.kind.name, subject.runtime)
    assert described["version"] and "unknown" not in described["version"] \
           and "(image tag)" not in described["version"], (subject.where, described["version"])


def test_offers_every_capability_a_drill_needs(subject: Subject) -> None:
    for capability in (Killable, Pausable, HasDataVolume, Exec):
        require(subject.service, capability, "kind conformance")  # CapabilityMissing names it


def test_is_accounted_for_by_its_runtime(subject: Subject) -> None:
    service = subject.service
    if subject.runtime == "local":  # `drill clean` ends what a crashed run left from this file
        recorded = recorded_processes(subject.workdir)
        assert [p for p in recorded if p["name"] == service.name and p["start"] > 0], \
            f"{subject.where}: {PROCESSES_FILE} does not record the server: {recorded}"
        return
    described = service.describe()
    assert described["image"] == subject.kind.image()
    assert described["image_id"].startswith("sha256:")
    container: Any = service
    env = container.container().attrs["Config"]["Env"]
    secret = service.endpoint.password
    assert secret, f"{subject.where}: the endpoint has no password"
    assert not [e.split("=")[0] for e in env if secret in e], \
        f"{subject.where}: the password is in the container's environment"


# -- 2, 3. writes under load, the probe, the read-back ---------------------------------


def test_takes_writes_under_load_and_passes_the_probe(subject: Subject) -> None:
    subject.store.prepare(subject.service.endpoint)
    subject.store.prepare(subject.service.endpoint)  # idempotent
    with Load(subject, each=EACH) as load:
        load.wait_acked(EACH)
        subject.probe()  # under load
    assert not load.errors and not load.not_acked, (subject.where, load.errors, load.not_acked)
    assert len(load.acked) == WRITERS * EACH
    subject.held.update(load.acked)
    subject.probe()


def test_reads_back_exactly_what_was_written(subject: Subject) -> None:
    assert subject.held, "nothing was written"
    compare(subject.where, subject.held, subject.read_back())


# -- 4. kill and restart: every acknowledged write kept --------------------------------


def test_kill_and_restart_keep_every_acknowledged_write(subject: Subject) -> None:
    service = require(subject.service, Killable, "kill")
    with Load(subject) as load:
        load.wait_acked(50)
        action = service.kill()
        assert subject.service.wait_exit(10), f"{subject.where}: still runs 10 s after a kill"
    assert MECHANISM[subject.runtime]["kill"] in action.mechanism, action.mechanism
    assert not subject.service.alive()
    if subject.runtime == "compose":  # a crash, as restart policies see it
        container: Any = subject.service
        assert container.container().attrs["State"]["ExitCode"] == 137
    subject.restart()
    found = subject.read_back()
    acked = {**subject.held, **load.acked}
    lost = sorted(i for i, v in acked.items() if found.get(i) != v)
    assert lost == [], f"{subject.where}: acknowledged writes lost or changed by a kill: " \
                       f"{lost[:20]} of {len(acked)}"
    invoked = {**subject.held, **load.invoked}
    unexpected = sorted(i for i, v in found.items() if invoked.get(i) != v)
    assert unexpected == [], f"{subject.where}: read back writes never made: {unexpected[:20]}"
    # `fail` says the write certainly was not applied: none of them may be there
    refused = sorted(i for i, how in load.not_acked.items()
                     if how.startswith("fail") and i in found)
    assert refused == [], f"{subject.where}: writes recorded as not applied were read " \
                          f"back: {refused[:20]} ({[load.not_acked[i] for i in refused[:3]]})"
    subject.held = found  # with the unknown ones that made it
    subject.probe()


# -- 5. freeze and thaw ----------------------------------------------------------------


def test_freeze_blocks_the_probe_until_thaw(subject: Subject) -> None:
    service = require(subject.service, Pausable, "freeze")
    probe = subject.store.probe(subject.service.endpoint)
    probe.attempt(next(subject.probes))  # connected before the freeze
    done = threading.Event()
    outcome: list[str] = []

    def attempt() -> None:
        try:
            probe.attempt(next(subject.probes))
            outcome.append("passed")
        except Exception as exc:
            outcome.append(f"{type(exc).__name__}: {exc}")
        finally:
            done.set()

    try:
        action = service.freeze()
        assert MECHANISM[subject.runtime]["freeze"] in action.mechanism, action.mechanism
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        if done.wait(0.5):
            assert outcome != ["passed"], f"{subject.where}: a frozen server passed the probe"
        assert subject.service.alive()
    finally:
        thawed = service.thaw()
    assert MECHANISM[subject.runtime]["thaw"] in thawed.mechanism, thawed.mechanism
    assert done.wait(15), f"{subject.where}: the probe still hangs 15 s after thaw"
    worker.join(5)
    try:
        probe.attempt(next(subject.probes))  # the same probe again: it recovers
    finally:
        probe.close()
    subject.probe()


# -- 6. exec ----------------------------------------------------------------------------


def test_exec_runs_a_command_in_its_environment(subject: Subject) -> None:
    service = require(subject.service, Exec, "exec")
    done = service.exec(["sh", "-c", "echo ok"], timeout_s=30)
    assert (done.returncode, done.stdout.strip()) == (0, b"ok"), (subject.where, done)
    assert service.exec(["sh", "-c", "exit 3"], timeout_s=30).returncode == 3


# -- 7. a delete behind the workload's back ----------------------------------------------


def test_a_delete_behind_the_back_shows_in_the_read_back(subject: Subject) -> None:
    assert len(subject.held) >= 10, "too little was written"
    ids = sorted(subject.held)[:: len(subject.held) // 5][:5]
    assert subject.store.delete(subject.service.endpoint, ids) == len(ids)
    assert subject.store.delete(subject.service.endpoint, ids) == 0  # gone already
    found = subject.read_back()
    assert sorted(subject.held.keys() - found.keys()) == ids, subject.where
    for op_id in ids:
        del subject.held[op_id]
    compare(subject.where, subject.held, found)


# -- 8. lost data ------------------------------------------------------------------------


def test_lost_data_reads_back_empty(subject: Subject) -> None:
    assert subject.held, "nothing to lose"
    service = require(subject.service, HasDataVolume, "lose data")
    action = service.lose_data()
    assert MECHANISM[subject.runtime]["lose_data"] in action.mechanism, action.mechanism
    if subject.runtime == "local":
        assert not Path(action.facts["removed"]).exists(), action.facts
    else:
        compose: Any = subject.service
        volumes = [v.name for v in compose.rt.docker.volumes.list()]
        assert action.facts["volume"] not in volumes, action.facts
    assert subject.service.wait_exit(10)
    assert not subject.service.alive()
    subject.restart()
    try:
        found = subject.read_back()
    except LedgerGone:
        found = {}
    assert found == {}, f"{subject.where}: {len(found)} writes read back after the data was lost"
    # a probe that passed on an empty server would end the RTO before the data is back
    with pytest.raises(ProbeFailed):
        subject.probe()
    subject.held = {}
    subject.store.prepare(subject.service.endpoint)
    subject.probe()


# -- 9. teardown -------------------------------------------------------------------------


def test_teardown_leaves_nothing(subject: Subject) -> None:
    endpoint = subject.service.endpoint
    project = getattr(subject.stack.runtime, "project", None)
    recorded = recorded_processes(subject.workdir) if subject.runtime == "local" else []
    subject.closed = True
    assert subject.stack.close() == [], subject.where
    assert not subject.workdir.exists(), f"{subject.where}: {subject.workdir} is left"
    if subject.runtime == "local":
        left = processes_mentioning(str(subject.workdir)) + processes_in(subject.workdir) + \
            [f"{p['pid']}: {p['name']}" for p in recorded if still_running(p["pid"], p["start"])]
        assert left == [], f"{subject.where}: processes left: {left}"
    else:
        assert labelled(subject.run_id) == [], subject.where
        docker = engine.client()
        try:
            label: dict[str, Any] = {"label": f"com.docker.compose.project={project}"}
            networks = [n.name for n in docker.networks.list(filters=label)]
        finally:
            docker.close()
        assert networks == [], f"{subject.where}: networks left: {networks}"
    probe = subject.store.probe(endpoint)
    try:
        with pytest.raises(ProbeFailed):
            probe.attempt(next(subject.probes))
    finally:
        probe.close()
