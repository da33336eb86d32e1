"""Start, watch and stop the Locust child process from the drill's side."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from drills.errors import WorkloadError
from drills.plan import WorkloadSpec
from drills.stack.endpoint import Endpoint
from drills.stack.process import die_with_parent


@dataclass(frozen=True)
class LoadStats:
    """Cumulative counts from the load generator at monotonic time ``t``."""

    t: float
    ok: int
    fail: int
    unknown: int
    p99_ms: float

    def total(self) -> int:
        return self.ok + self.fail + self.unknown


class Workload:
    """The Locust child process; a context manager that always stops it."""

    def __init__(
        self,
        endpoint: Endpoint,
        spec: WorkloadSpec,
        history: Path,
        workdir: Path,
        on_stats: Callable[[LoadStats], None] | None = None,
        stats_interval_s: float = 1.0,
    ) -> None:
        self.endpoint = endpoint
        self.spec = spec
        self.history = history
        self.workdir = workdir
        self.on_stats = on_stats
        self.stats_interval_s = stats_interval_s
        self.latest: LoadStats | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._first = threading.Event()
        self.log_path = workdir / "logs" / "workload.log"

    def start(self, timeout: float = 30.0) -> None:
        spec_path = self.workdir / "workload.json"
        spec_path.write_text(json.dumps({
            "users": self.spec.users, "rate": self.spec.rate, "history": str(self.history),
            "stats_interval_s": self.stats_interval_s,
        }))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DRILLS_ENDPOINT": self.endpoint.to_env()}
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "drills.workload.locust_child", str(spec_path)],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=env,
                text=True, start_new_session=True, preexec_fn=die_with_parent,
            )
        self._reader = threading.Thread(target=self._read, name="workload-stats", daemon=True)
        self._reader.start()
        if not self._first.wait(timeout) or self.latest is None:
            self.stop()
            raise WorkloadError(f"the load generator did not report within {timeout:.0f} s; "
                                f"its log ({self.log_path}):\n{self._log_tail()}")

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                raw = json.loads(line)
                stats = LoadStats(raw["t"], raw["ok"], raw["fail"], raw["unknown"], raw["p99_ms"])
            except (ValueError, KeyError):
                continue
            self.latest = stats
            self._first.set()
            if self.on_stats is not None:
                self.on_stats(stats)
        self._first.set()

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop the load (users finish their current write); returns the exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(5)
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Workload:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        code = self.stop()
        if exc_type is None and code not in (0, None):
            raise WorkloadError(f"the load generator exited with {code}; its log:\n"
                                f"{self._log_tail()}")
