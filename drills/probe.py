"""The steady-state probe: a write acknowledged and read back, every interval.

It runs in a thread of the drill process with one attempt in flight at a time: an
attempt against a frozen server blocks until the server answers, and is then judged
against the probe timeout. Each attempt is appended to probes.jsonl as it completes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from drills.datastore import ProbeFailed, probe_for
from drills.history import ProbeAttempt
from drills.measure.rto import probe_passed
from drills.plan import ProbeSpec
from drills.stack.service import Endpoint


class SteadyStateProbe:
    """Probes one service until stopped; tells when it first passes after a moment."""

    def __init__(self, endpoint: Endpoint, spec: ProbeSpec, path: Path) -> None:
        self.endpoint = endpoint
        self.spec = spec
        self.path = path
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._attempts: list[ProbeAttempt] = []
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

    def _run(self) -> None:
        probe = probe_for(self.endpoint)
        seq = 0
        next_at = time.monotonic()
        with open(self.path, "a", encoding="utf-8", buffering=1) as out:
            try:
                while not self._stop.is_set():
                    delay = next_at - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        break
                    seq += 1
                    m0, w0 = time.monotonic(), time.time()
                    error = None
                    try:
                        probe.attempt(seq)
                    except ProbeFailed as exc:
                        error = str(exc)
                    attempt = ProbeAttempt(m0, w0, time.monotonic(), time.time(),
                                           error is None, error)
                    out.write(attempt.to_json() + "\n")
                    with self._changed:
                        self._attempts.append(attempt)
                        self._changed.notify_all()
                    next_at = max(next_at + self.spec.interval_s, time.monotonic())
            finally:
                probe.close()

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
