"""The steady-state probe: a write acknowledged and read back, every interval.

It runs in a thread of the drill process with one attempt in flight at a time: an
attempt against a frozen server blocks until the server answers, and is then judged
against the probe timeout. Each attempt is appended to probes.jsonl as it completes.
Whatever an attempt raises is a failed attempt, recorded with its error: the probe
never stops on its own, and if its thread dies anyway, ``status()`` says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from drills.datastore import Probe, ProbeFailed
from drills.measure.rto import probe_passed
from drills.plan import ProbeSpec
from drills.record.history import ProbeAttempt


@dataclass(frozen=True)
class ProbeStatus:
    """What the probe knows right now, for the progress line."""

    up: bool | None  # None: no attempt has finished yet
    text: str


class SteadyStateProbe:
    """Probes one service until stopped; tells when it first passes after a moment."""

    def __init__(self, make_probe: Callable[[], Probe], spec: ProbeSpec, path: Path) -> None:
        self.make_probe = make_probe
        self.spec = spec
        self.path = path
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._attempts: list[ProbeAttempt] = []
        self._in_flight_since: float | None = None
        self._died: str | None = None
        #: CPU time the probe's thread used, and over how long (set when it stops)
        self.cpu_s: float | None = None
        self.span_s: float | None = None
        self._thread = threading.Thread(target=self._run, name="steady-state-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.spec.timeout_s + 30)

    @property
    def last(self) -> ProbeAttempt | None:
        with self._changed:
            return self._attempts[-1] if self._attempts else None

    def status(self, now: float | None = None) -> ProbeStatus:
        """Up or down as of ``now``: an attempt in flight past the timeout counts as down."""
        now = time.monotonic() if now is None else now
        with self._changed:
            if self._died is not None:
                return ProbeStatus(False, f"STOPPED ({self._died})")
            since = self._in_flight_since
            last = self._attempts[-1] if self._attempts else None
        if since is not None and now - since > self.spec.timeout_s:
            return ProbeStatus(False, f"DOWN (no answer for {now - since:.1f} s)")
        if last is None:
            return ProbeStatus(None, "n/a")
        if probe_passed(last, self.spec):
            return ProbeStatus(True, "up")
        return ProbeStatus(False, "DOWN")

    def _record(self, out: TextIO, attempt: ProbeAttempt) -> None:
        out.write(attempt.to_json() + "\n")
        with self._changed:
            self._attempts.append(attempt)
            self._in_flight_since = None
            self._changed.notify_all()

    def cost(self) -> dict[str, float | int | None]:
        """What the probe took from the drill host, for the timeline."""
        with self._changed:
            attempts = len(self._attempts)
        return {"attempts": attempts, "cpu_s": self.cpu_s, "span_s": self.span_s}

    def _run(self) -> None:
        cpu0, t0 = time.thread_time(), time.monotonic()
        try:
            self._probe_until_stopped()
        finally:
            self.cpu_s, self.span_s = time.thread_time() - cpu0, time.monotonic() - t0

    def _probe_until_stopped(self) -> None:
        probe: Probe | None = None
        seq = 0
        next_at = time.monotonic()
        try:
            with open(self.path, "a", encoding="utf-8", buffering=1) as out:
                while not self._stop.is_set():
                    delay = next_at - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        break
                    seq += 1
                    m0, w0 = time.monotonic(), time.time()
                    with self._changed:
                        self._in_flight_since = m0
                    error = None
                    try:
                        if probe is None:
                            probe = self.make_probe()
                        probe.attempt(seq)
                    except Exception as exc:  # any failure is a failed attempt, never the end
                        error = f"{type(exc).__name__}: {exc}"
                        if probe is not None and not isinstance(exc, ProbeFailed):
                            _closed(probe)
                            probe = None
                    self._record(out, ProbeAttempt(m0, w0, time.monotonic(), time.time(),
                                                   error is None, error))
                    next_at = max(next_at + self.spec.interval_s, time.monotonic())
        except BaseException as exc:  # recorded, and seen by status()
            with self._changed:
                self._died = f"{type(exc).__name__}: {exc}"
                self._changed.notify_all()
        finally:
            if probe is not None:
                _closed(probe)

    def wait_passing(self, invoked_after: float, timeout: float) -> ProbeAttempt | None:
        """Block until an attempt invoked after ``invoked_after`` passes; None on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for attempt in reversed(self._attempts):
                    if attempt.invoke_mono < invoked_after:
                        break
                    if probe_passed(attempt, self.spec):
                        return next(a for a in self._attempts if a.invoke_mono >= invoked_after
                                    and probe_passed(a, self.spec))
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return None
                self._changed.wait(min(remaining, 0.5))


    def wait_failing(self, invoked_after: float, timeout: float) -> ProbeAttempt | None:
        """Block until an attempt invoked after ``invoked_after`` fails; None on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                failed = next((a for a in self._attempts if a.invoke_mono >= invoked_after
                               and not probe_passed(a, self.spec)), None)
                if failed is not None:
                    return failed
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return None
                self._changed.wait(min(remaining, 0.5))


def _closed(probe: Probe) -> None:
    """Close a probe whose state is in doubt; a failing close must not stop the probing."""
    try:
        probe.close()
    except Exception:  # the next attempt makes a new one
        pass
