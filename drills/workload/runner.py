"""Start, watch and stop the Locust child processes from the drill's side.

One child runs every user, or, with ``workload: {workers: N}``, a Locust master and N
worker processes on this host (drills.workload.distributed), plus any workers that join
from other hosts (``drill worker``). Each worker keeps its own op history beside the
journal; the master reports their summed counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

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
        self._workers: list[subprocess.Popen[bytes]] = []
        self._reader: threading.Thread | None = None
        self._first = threading.Event()
        self.log_path = workdir / "logs" / "workload.log"

    def start(self, timeout: float = 30.0) -> None:
        spec_path = self.workdir / "workload.json"
        settings = {"users": self.spec.users, "rate": self.spec.rate,
                    "history": str(self.history), "stats_interval_s": self.stats_interval_s}
        argv = [sys.executable, "-m", "drills.workload.locust_child", str(spec_path)]
        master = None
        if self.spec.distributed:
            master = self.spec.master or f"127.0.0.1:{_free_port()}"
            settings.update(workers=self.spec.workers, remote_workers=self.spec.remote_workers,
                            master=master, history_dir=str(self.history.parent))
            argv.append("--master")
            timeout += distributed_join_timeout(self.spec.remote_workers)
        _write_private(spec_path, json.dumps(settings))
        self.log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        env = child_environment()
        with _private_log(self.log_path) as log:
            self._proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.PIPE, env=env,
                text=True, start_new_session=True, preexec_fn=die_with_parent,
            )
        give_endpoint(self._proc, self.endpoint)
        if master is not None:
            self._start_workers(master, env)
        self._reader = threading.Thread(target=self._read, name="workload-stats", daemon=True)
        self._reader.start()
        if not self._first.wait(timeout) or self.latest is None:
            self.stop()
            raise WorkloadError(f"the load generator did not report within {timeout:.0f} s; "
                                f"its log ({self.log_path}):\n{self._log_tail()}")

    def _start_workers(self, master: str, env: dict[str, str]) -> None:
        """The workers on this host: each writes its history beside the journal."""
        host, _, port = master.rpartition(":")
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        for number in range(1, self.spec.workers + 1):
            log_path = self.log_path.with_name(f"workload-worker-{number}.log")
            with _private_log(log_path) as log:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "drills.workload.locust_child", "--worker",
                     "--master-host", host, "--master-port", port,
                     "--ledger", str(self.history.parent)],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE, env=env,
                    start_new_session=True, preexec_fn=die_with_parent)
            self._workers.append(worker)
            give_endpoint(worker, self.endpoint)

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
        """Stop the load (users finish their current write); returns the exit code.

        A master first collects every worker's history: it is given longer.
        """
        proc = self._proc
        if proc is None:
            return None
        if self.spec.distributed:
            timeout += FINISH_TIMEOUT_S
        _ended(proc, timeout)
        for worker in self._workers:  # they leave once the master let them finish
            _ended(worker, 15.0)
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


#: as drills.workload.distributed (not imported here: it imports Locust)
JOIN_TIMEOUT_S = 120.0
FINISH_TIMEOUT_S = 300.0


def distributed_join_timeout(remote_workers: int) -> float:
    """How long the master may wait for its workers before the load starts."""
    return JOIN_TIMEOUT_S if remote_workers else 30.0


def _ended(proc: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def child_environment() -> dict[str, str]:
    """The load generator's environment: this process's, without any endpoint in it.

    The endpoint and its password go through the child's standard input (give_endpoint),
    never its environment: /proc/PID/environ is readable by every process of the user.
    """
    env = dict(os.environ)
    env.pop(ENDPOINT_VARIABLE, None)
    env.pop("DRILLS_PASSWORD", None)
    return env


def give_endpoint(proc: subprocess.Popen[Any], endpoint: Endpoint) -> None:
    """Write the endpoint (with its password) to the child's standard input, and close it."""
    stdin = proc.stdin
    assert stdin is not None
    data = endpoint.to_env() + "\n"
    try:
        stdin.write(data if isinstance(stdin, io.TextIOBase) else data.encode())
        stdin.close()
    except (BrokenPipeError, OSError):
        pass  # it died first: its exit code and log say why


#: where a child started by hand (an older drill worker) may still find its endpoint
ENDPOINT_VARIABLE = "DRILLS_ENDPOINT"


@contextlib.contextmanager
def _private_log(path: Path) -> Iterator[BinaryIO]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "ab") as out:
        yield out


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
