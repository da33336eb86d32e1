"""The steady-state probe thread: it never stops on an error, and never shows a hung server up.

The probes here are stand-ins (what is tested is the thread around them): one fails in
ways a store adapter must not, one blocks like a frozen server.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from drills.datastore import ProbeFailed
from drills.plan import ProbeSpec
from drills.probe import SteadyStateProbe
from drills.record.history import read_probes

SPEC = ProbeSpec(interval_s=0.01, timeout_s=0.2)


class Scripted:
    """Fails attempt 2 with a bug (not ProbeFailed), attempt 3 with ProbeFailed."""

    made = 0

    def __init__(self) -> None:
        Scripted.made += 1

    def attempt(self, seq: int) -> None:
        if seq == 2:
            raise KeyError("a bug in a store adapter")
        if seq == 3:
            raise ProbeFailed("row read back as None")

    def close(self) -> None:
        pass


def recorded(path: Path) -> int:
    return len(read_probes(path)) if path.exists() else 0


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_any_exception_is_a_failed_attempt_and_the_probe_goes_on(tmp_path: Path) -> None:
    Scripted.made = 0
    probe = SteadyStateProbe(Scripted, SPEC, tmp_path / "probes.jsonl")
    probe.start()
    try:
        wait_for(lambda: recorded(tmp_path / "probes.jsonl") >= 6)
    finally:
        probe.stop()
    attempts = read_probes(tmp_path / "probes.jsonl")
    assert [a.ok for a in attempts[:4]] == [True, False, False, True]
    assert attempts[1].error == "KeyError: 'a bug in a store adapter'"
    assert attempts[2].error == "ProbeFailed: row read back as None"
    assert Scripted.made == 2  # a probe whose state is in doubt after a bug is made anew
    assert probe.status().up is True


def test_a_probe_that_cannot_even_be_made_is_recorded(tmp_path: Path) -> None:
    def broken() -> Scripted:
        raise ConnectionRefusedError("no server yet")

    probe = SteadyStateProbe(broken, SPEC, tmp_path / "probes.jsonl")
    probe.start()
    try:
        wait_for(lambda: recorded(tmp_path / "probes.jsonl") >= 3)
    finally:
        probe.stop()
    assert all(not a.ok and "ConnectionRefusedError" in str(a.error)
               for a in read_probes(tmp_path / "probes.jsonl"))


class Hanging:
    """Answers at once until frozen, then blocks until thawed, like a SIGSTOPped server."""

    thawed = threading.Event()
    frozen = threading.Event()

    def attempt(self, seq: int) -> None:
        if self.frozen.is_set():
            self.thawed.wait(10)

    def close(self) -> None:
        pass


def test_an_attempt_in_flight_past_the_timeout_reads_down(tmp_path: Path) -> None:
    Hanging.frozen.clear()
    Hanging.thawed.clear()
    probe = SteadyStateProbe(Hanging, SPEC, tmp_path / "probes.jsonl")
    probe.start()
    try:
        wait_for(lambda: probe.status().up is True)
        Hanging.frozen.set()
        time.sleep(SPEC.timeout_s + 0.3)
        status = probe.status()
        last = probe.last
        assert last is not None and last.ok  # the last *completed* attempt passed...
        assert status.up is False and status.text.startswith("DOWN (no answer for")  # ...but
    finally:
        Hanging.thawed.set()
        probe.stop()


def test_a_dead_probe_thread_says_so(tmp_path: Path) -> None:
    class Exits:
        def attempt(self, seq: int) -> None:
            raise SystemExit("not an Exception: ends the thread")

        def close(self) -> None:
            pass

    probe = SteadyStateProbe(Exits, SPEC, tmp_path / "probes.jsonl")
    probe.start()
    wait_for(lambda: not probe._thread.is_alive())
    status = probe.status()
    assert status.up is False and "STOPPED" in status.text and "SystemExit" in status.text
    assert probe.wait_passing(0.0, 0.1) is None
