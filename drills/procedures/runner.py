"""Running one procedure: its own process group, a timeout, output kept, nothing left behind.

The command runs with ``start_new_session`` (its own process group, as a shell job), so a
timeout, the drill's teardown or Ctrl-C ends it and every process it started: SIGTERM to
the group, then SIGKILL after a grace period. It also gets SIGKILL if the drill process
itself dies. Output (stdout and stderr together) goes to a log in the scenario's logs (0600)
through a pipe and a redactor: the stack's passwords and URL credentials never reach it.
Processes it started that left its group (setsid) carry a mark in their environment and
are ended with it (drills.procedures.leftovers); the leader is recorded in the run's
processes.jsonl, so that ``drill clean`` ends them after a crash of the drill.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.errors import RecoveryProcedureFailed
from drills.plan.procedure_spec import Procedure
from drills.procedures import leftovers
from drills.procedures.context import ProcedureContext
from drills.record.clock import Instant
from drills.redact import redact_text, redacting_pipe
from drills.stack.ownership import process_start_ticks
from drills.stack.process import die_with_parent
from drills.stack.workdir import record_process

GRACE_S = 5.0
_COPY_WAIT_S = 5.0


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

    def facts(self) -> dict[str, object]:
        """What a fault, a recovery step or a backup records of the command that did it."""
        return {"command": self.to_dict()}

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


def _open_log(path: Path) -> int:
    """The procedure's log, readable by this user only, never through a link."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # an older log of the same name
    return fd


def _end_leftovers(pid: int, start: int | None, mark: str) -> None:
    """What the procedure started and left behind, even outside its group (setsid)."""
    if start is not None:
        leftovers.end(leftovers.tied(pid, start, mark))


def run(procedure: Procedure, ctx: ProcedureContext, log_name: str) -> CommandResult:
    """Run ``procedure`` to its end or its timeout; Ctrl-C ends it and is raised again.

    Its output goes through a pipe and a redactor (drills.redact) into the log: the log
    never holds a password, not while the procedure runs, not after the drill was killed.
    """
    argv = ctx.argv(procedure)
    mark = secrets.token_hex(16)
    env = {**ctx.environment(procedure), leftovers.MARK_VARIABLE: mark}
    log = ctx.logs_dir / log_name
    timed_out = False
    write_end, copier = redacting_pipe(_open_log(log), ctx.secrets())
    started = Instant.now()
    try:
        proc = subprocess.Popen(argv, cwd=procedure.cwd, env=env,
                                stdin=subprocess.DEVNULL, stdout=write_end,
                                stderr=write_end, start_new_session=True,
                                preexec_fn=die_with_parent)
    except OSError as exc:  # not found, not executable
        os.close(write_end)
        copier.join()
        why = f"cannot run {argv[0]}: {exc.strerror}" + (
            " (make it executable: chmod +x)" if isinstance(exc, PermissionError)
            else "")
        raise RecoveryProcedureFailed(
            f"procedure {procedure.name}: {why}",
            {"procedure": procedure.name, "outcome": why, "log_tail": ""}) from exc
    os.close(write_end)
    leader_start = process_start_ticks(proc.pid)
    if ctx.workdir is not None:  # drill clean ends what is left of it after a crash
        record_process(ctx.workdir, f"procedure {procedure.name}", proc.pid,
                       kind="procedure", mark=mark)
    try:
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
    finally:  # and those that left the group (setsid): nothing outlives the procedure
        _end_leftovers(proc.pid, leader_start, mark)
        copier.join(_COPY_WAIT_S)  # every writer is gone: the rest of its output
    shown = tuple(_hide(a, ctx.secrets()) for a in argv)  # the journal never holds a secret
    return CommandResult(procedure.name, shown, procedure.cwd, code, started, ended,
                         log, timed_out)


def _hide(text: str, secrets: list[str]) -> str:
    return redact_text(text, secrets)
