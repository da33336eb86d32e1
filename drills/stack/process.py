"""A supervised server process: a direct child of the drill, so a crash is reaped at once.

Servers started through ``pg_ctl`` are re-parented to PID 1, which reaps slowly on these
machines: a killed postmaster then lingers as a zombie and blocks the restart for
1.4-2.2 s. Keeping the server as our own child avoids that. Each server runs in a
session of its own (Ctrl-C reaches only the drill, which then tears down in order) and
dies with the drill if the drill itself is killed (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from drills.errors import StackError
from drills.record.clock import Instant
from drills.stack.workdir import record_process

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account a server runs under when the drill runs as root."""

    user: str
    uid: int
    gid: int

    @classmethod
    def for_server(cls, server: str, account: str = "postgres") -> RunAs | None:
        """None when not root: the server then runs as the invoking user."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(account)
        except KeyError:
            raise StackError(
                f"{server} refuses to run as root and there is no '{account}' account to run "
                f"it as. To fix this, either run drills as an ordinary user, or install the "
                f"server package (it creates the account): apt-get install postgresql-15"
            ) from None
        return cls(account, entry.pw_uid, entry.pw_gid)

    def wrap(self, argv: Sequence[str], *extra: str) -> list[str]:
        """``argv`` run as this account, through util-linux setpriv."""
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                *extra, *argv]


def die_with_parent() -> None:
    """In a child (before exec, or first thing): get SIGKILL if the drill process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class SupervisedProcess:
    """One server process and its process group, started and signalled by the drill."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        run_as: RunAs | None = None,
        cwd: Path | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.name = name
        self.workdir = workdir  # where each start is recorded for `drill clean`
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env or {})
        self.run_as = run_as
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        if self.running():
            raise StackError(f"{self.name} is already running (pid {self.pid})")
        argv = self.argv
        if self.run_as is not None:
            # setpriv drops privileges; --pdeathsig keep restores the parent-death signal
            # the kernel clears on a credential change.
            argv = self.run_as.wrap(argv, "--pdeathsig=keep")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **self.env}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW,
                     0o600)  # the run's files are its user's alone
        with os.fdopen(fd, "ab") as log:
            try:
                self._proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                    cwd=self.cwd, start_new_session=True, preexec_fn=die_with_parent,
                )
            except OSError as exc:
                raise StackError(f"cannot start {self.name} ({argv[0]}): {exc}") from exc
        if self.workdir is not None:
            record_process(self.workdir, self.name, self._proc.pid)

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def signal_tree(self, sig: signal.Signals) -> tuple[list[int], Instant]:
        """Send ``sig`` to the server and every process it started.

        Returns their pids and the instant the first signal went out: listing the tree
        takes milliseconds, during which the server still answers.

        Not ``killpg``: PostgreSQL backends call setsid(), so each one leads a process
        group of its own and a group signal would reach the postmaster alone. Before a
        SIGKILL the server is stopped (SIGSTOP), so that it cannot start a child between
        the listing and its death: a backend forked in that gap would outlive it, holding
        its shared memory, and the restart would refuse to start.
        """
        if self._proc is None or self._proc.poll() is not None:
            raise StackError(f"{self.name} is not running; cannot send {sig.name}")
        if sig == signal.SIGKILL:
            os.kill(self._proc.pid, signal.SIGSTOP)
        pids = [self._proc.pid, *descendants(self._proc.pid)]
        sent = Instant.now()
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass  # exited between the listing and the signal
        return pids, sent

    def wait(self, timeout: float) -> int | None:
        """Wait for the process to exit (and reap it); None on timeout."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig: signal.Signals = signal.SIGTERM, grace_s: float = 10.0) -> None:
        """Stop politely, then by force; always leaves the process reaped."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self.signal_tree(signal.SIGCONT)  # a frozen server cannot shut down
        if self._proc.poll() is None:
            os.kill(self._proc.pid, sig)
        if self.wait(grace_s) is None:
            if self._proc.poll() is None:
                self.signal_tree(signal.SIGKILL)
            self._proc.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` in the process tree, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: split after the last ")"
        fields = stat[stat.rfind(")") + 2 :].split()
        if fields and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
