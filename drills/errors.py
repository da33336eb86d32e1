"""The exception tree of drills: every error a user can meet, with what to do next.

    DrillError
    ├── PlanError              the plan file is invalid (unknown key, wrong type): exit 2
    ├── UsageError             a command-line option or DRILLS_* variable is invalid: exit 2
    ├── UnknownKind            a service kind nobody registered: names the known kinds
    ├── StackError             a service could not be started, reached or identified
    │   ├── ServiceNotReady    a service did not pass its ready check in time
    │   └── NotOurServer       the server on our port is someone else's: never wait or act on it
    ├── FaultError             a fault could not be injected or reverted
    │   └── CapabilityMissing  the fault's target cannot do what the fault needs (refused
    │                          when the fault is built, before anything is injected)
    ├── RecoveryError          a recovery step failed
    │   └── RecoveryProcedureFailed   the team's procedure in it failed (with its facts)
    ├── BackupError            a backup could not be taken, or its own tool found it unusable
    │   └── BackupProcedureFailed     the team's backup procedure failed (with its facts)
    ├── WorkloadError          the load generator failed to start or died
    └── HistoryError           an op history or journal file cannot be read

Third-party errors are wrapped once, at the boundary, with ``raise ... from exc``. Text
that comes from a user's file is shown through ``printable()``, so a plan cannot write
terminal control sequences through an error message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: object, limit: int = 200) -> str:
    """``text`` safe for a terminal: control characters escaped, at most ``limit`` chars."""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                         else f"\\u{ord(m.group()):04x}", str(text))
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


class DrillError(Exception):
    """Base of every error drills raises on purpose."""


class PlanError(DrillError):
    """A plan file is invalid; names the file, the key and what is allowed."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = Path(path)
        self.key = printable(key)
        self.problem = printable(problem, limit=600)
        super().__init__(f"{printable(self.path, 300)}: {self.key}: {self.problem}")


class UsageError(DrillError):
    """An option or environment variable has a value drills cannot use."""


class UnknownKind(DrillError):
    """A service kind that no package registered."""

    def __init__(self, kind: object, known: tuple[str, ...]) -> None:
        self.kind = kind
        super().__init__(f"unknown service kind {printable(repr(kind))}; "
                         f"known kinds: {', '.join(known)}")


class StackError(DrillError):
    """A service of the stack could not be started, reached or identified."""


class ServiceNotReady(StackError):
    """A service did not pass its ready check in time; carries its log tail."""

    def __init__(self, service: str, waited_s: float, last_error: str, log_tail: str) -> None:
        self.service = service
        self.waited_s = waited_s
        self.last_error = last_error
        self.log_tail = log_tail
        super().__init__(
            f"{service} was not ready after {waited_s:.1f} s (last check: {last_error}).\n"
            f"Last lines of the {service} log:\n{log_tail}"
        )


class NotOurServer(StackError):
    """The server that answered on our port is not the one this run started."""


class FaultError(DrillError):
    """A fault could not be injected or reverted."""


class CapabilityMissing(FaultError):
    """A fault's target lacks the capability the fault needs; raised when it is built."""

    def __init__(self, fault: str, service: str, runtime: str, capability: str,
                 meaning: str, has: tuple[str, ...]) -> None:
        self.fault = fault
        self.service = service
        self.runtime = runtime
        self.capability = capability
        offered = ", ".join(has) if has else "none"
        super().__init__(
            f"the fault '{fault}' cannot act on service '{service}' on the {runtime} "
            f"runtime: it is not {capability} ({meaning}). What '{service}' offers there: "
            f"{offered}. Pick a fault that needs only those, or a runtime that offers it."
        )


class RecoveryError(DrillError):
    """A recovery step failed."""


class BackupError(DrillError):
    """A backup could not be taken, or its own tool found it unusable."""


class ProcedureFailed(DrillError):
    """A team's procedure exited non-zero, was killed at its timeout, or could not start.

    ``facts`` go on the failed step of the timeline (the procedure, its command, its
    outcome, the last lines of its log), so the verdict can quote them
    (drills.measure.step_failures).
    """

    def __init__(self, message: str, facts: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.facts: dict[str, Any] = dict(facts)


class RecoveryProcedureFailed(ProcedureFailed, RecoveryError):
    """The team's procedure run as a recovery or setup step failed."""


class BackupProcedureFailed(ProcedureFailed, BackupError):
    """The team's backup procedure failed: the backup did not happen."""


class WorkloadError(DrillError):
    """The load generator failed to start or died."""


class HistoryError(DrillError):
    """An op history, probe record or journal cannot be read."""
