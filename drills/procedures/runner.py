"""Running one procedure: its own process group, a timeout, output kept, nothing left behind.

The command runs with ``start_new_session`` (its own process group, as a shell job), so a
timeout, the drill's teardown or Ctrl-C ends it and every process it started: SIGTERM to
the group, then SIGKILL after a grace period. It also gets SIGKILL if the drill process
itself dies. Output (stdout and stderr together) goes to a log in the scenario's logs,
with the stack's passwords redacted.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.clock import Instant
from drills.errors import RecoveryProcedureFailed
from drills.plan.procedure_spec import Procedure
from drills.procedures.context import ProcedureContext
from drills.stack.process import die_with_parent

GRACE_S = 5.0
REDACTED = "<redacted>"


@dataclass(frozen=True)
class CommandResult:
    """How one run of a procedure went."""

    name: str
    argv: tuple[str, ...]
    cwd: Path
    exit_code: int | None  # None: killed at its timeout
    started: Instant
    ended: Instant
    log: Path
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def duration_s(self) -> float:
        return self.ended.mono - self.started.mono

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no output saved)"
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"

    def outcome(self) -> str:
        if self.timed_out:
            return f"killed after its timeout of {self.duration_s:.0f} s"
        return f"exit {self.exit_code} after {self.duration_s:.2f} s"

    def failure_facts(self) -> dict[str, Any]:
        """What a failed step records: the procedure, its command, outcome and log tail."""
        return {"procedure": self.name, "command": self.to_dict(), "outcome": self.outcome(),
                "log_tail": self.tail()}

    def to_dict(self) -> dict[str, Any]:
        return {"procedure": self.name, "argv": list(self.argv), "cwd": str(self.cwd),
                "exit_code": self.exit_code, "timed_out": self.timed_out,
                "duration_s": round(self.duration_s, 6), "log": self.log.name,
                "started_wall": self.started.wall, "ended_wall": self.ended.wall}


def end_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the procedure's process group, SIGKILL to it after the grace period."""
    for sig, wait_s in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, GRACE_S)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass  # the leader is gone; its group may still hold others, tried below
        try:
            proc.wait(wait_s)
            # the leader is gone: make sure nothing else of its group survives
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


def _redact(path: Path, secrets: list[str]) -> None:
    if not secrets or not path.exists():
        return
    data = path.read_bytes()
    for secret in secrets:
        data = data.replace(secret.encode(), REDACTED.encode())
    path.write_bytes(data)


def run(procedure: Procedure, ctx: ProcedureContext, log_name: str) -> CommandResult:
    """Run ``procedure`` to its end or its timeout; Ctrl-C ends it and is raised again."""
    argv = ctx.argv(procedure)
    env = ctx.environment(procedure)
    ctx.logs_dir.mkdir(parents=True, exist_ok=True)
    log = ctx.logs_dir / log_name
    timed_out = False
    try:
        with open(log, "wb") as out:
            started = Instant.now()
            try:
                proc = subprocess.Popen(argv, cwd=procedure.cwd, env=env,
                                        stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True,
                                        preexec_fn=die_with_parent)
            except OSError as exc:  # not found, not executable
                why = f"cannot run {argv[0]}: {exc.strerror}" + (
                    " (make it executable: chmod +x)" if isinstance(exc, PermissionError)
                    else "")
                raise RecoveryProcedureFailed(
                    f"procedure {procedure.name}: {why}",
                    {"procedure": procedure.name, "outcome": why, "log_tail": ""}) from exc
            try:
                code: int | None = proc.wait(procedure.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out, code = True, None
                end_group(proc)
            except BaseException:  # Ctrl-C, SIGTERM, the drill failing: nothing left running
                end_group(proc)
                raise
            else:
                try:  # children it left in its group (a backgrounded helper) go too
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            ended = Instant.now()
    finally:  # whatever happened, no password stays in the saved output
        _redact(log, ctx.secrets())
    shown = tuple(_hide(a, ctx.secrets()) for a in argv)  # the journal never holds a secret
    return CommandResult(procedure.name, shown, procedure.cwd, code, started, ended,
                         log, timed_out)


def _hide(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


