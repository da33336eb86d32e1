"""A team's setup or backup procedure that failed: a ``fail`` row, never "could not verify".

A procedure of the plan that exits non-zero, cannot start, or is killed at its timeout
stops the drill; its step on the timeline ends not ok with the procedure's facts
(drills.errors.ProcedureFailed: the procedure, its command, its outcome and the last lines
of its log). That is the team's runbook failing, not the drill's measurement:

- a backup job's procedure (``backups.JOB.procedure``): the backup did not happen, row
  ``backup.JOB.procedure``, finding BACKUP_FAILED;
- a setup procedure (``stack.setup``): the stack cannot be prepared as the plan says, row
  ``setup.NAME``, finding SETUP_FAILED.

What drills itself could not do stays "could not verify" (a built-in backup tool missing,
a placeholder with no value yet: their steps carry no procedure facts), and a backup that
was taken but that its own tool rejects is BACKUP_UNUSABLE (Judge.backup_verified). A
recovery step that fails is RECOVERY_FAILED (Judge.failed_recovery).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drills.measure.findings import Finding
from drills.measure.verdict import TargetCheck, Verdict
from drills.record.timeline import Category, Step

TARGET = "the procedure completes: exit 0 within its timeout"


def _failed_procedure(step: Step) -> bool:
    """A step that ended not ok because a team's procedure failed (it carries its facts)."""
    return (step.end is not None and not step.ok and "procedure" in step.data
            and "outcome" in step.data and "rehearsal" not in step.data)


def _command(data: Mapping[str, Any]) -> tuple[str, str]:
    """The procedure's argv as shown, and where its log is kept (empty when unknown)."""
    command = data.get("command")
    if not isinstance(command, Mapping):
        return "", ""
    argv = " ".join(str(a) for a in command.get("argv") or ())
    log = f"logs/{command['log']}" if command.get("log") else ""
    return argv, log


def _why(data: Mapping[str, Any], what: str, then: str) -> str:
    """``what`` (the plan key and procedure) failed, how, and the tail of its log."""
    argv, log = _command(data)
    text = f"{what}" + (f" ({argv})" if argv else "") + f" failed: {data['outcome']}; {then}"
    tail = str(data.get("log_tail") or "").rstrip()
    if tail:
        text += f"; last lines of {log or 'its output'}:\n{tail}"
    return text


def _duration(data: Mapping[str, Any]) -> float | None:
    command = data.get("command")
    seconds = command.get("duration_s") if isinstance(command, Mapping) else None
    return float(seconds) if isinstance(seconds, int | float) else None


def backup_row(step: Step, findings: list[Finding]) -> TargetCheck:
    """A backup job whose procedure failed: the backup did not happen."""
    data = step.data
    job, procedure = str(data.get("job", "?")), str(data["procedure"])
    msg = _why(data, f"backups.{job}: procedure {procedure}",
               "the backup did not happen, and the drill stopped before the fault")
    findings.append(Finding("BACKUP_FAILED", msg))
    return TargetCheck(f"backup.{job}.procedure", f"backup {job} taken", TARGET,
                       str(data["outcome"]), "", Verdict.FAIL, msg,
                       measured_value=_duration(data))


def setup_row(step: Step, findings: list[Finding]) -> TargetCheck:
    """A setup procedure that failed: the drill stopped before any load."""
    data = step.data
    procedure = str(data["procedure"])
    msg = _why(data, f"stack.setup: procedure {procedure}",
               "the drill stopped before any load")
    findings.append(Finding("SETUP_FAILED", msg))
    return TargetCheck(f"setup.{procedure}", f"setup procedure {procedure}", TARGET,
                       str(data["outcome"]), "", Verdict.FAIL, msg,
                       measured_value=_duration(data))


def failed_steps(steps: Sequence[Step], findings: list[Finding]) -> list[TargetCheck]:
    """A fail row (and finding) per setup or backup procedure that failed, in order."""
    rows: list[TargetCheck] = []
    for step in steps:
        if not _failed_procedure(step):
            continue
        if step.category == Category.BACKUP and "job" in step.data:
            rows.append(backup_row(step, findings))
        elif step.category == Category.SETUP:
            rows.append(setup_row(step, findings))
    return rows


def unexplained(errors: Sequence[str], steps: Sequence[Step]) -> list[str]:
    """The drill's errors other than the failed setup or backup procedures' own.

    A procedure's failure is also the error that ended the drill; its fail row says it
    already, so the row "drill procedure" (could not verify) need not repeat it.
    """
    said = {str(s.data.get("error")) for s in steps if _failed_procedure(s)
            and (s.category == Category.SETUP
                 or (s.category == Category.BACKUP and "job" in s.data))}
    return [e for e in errors if e not in said]
