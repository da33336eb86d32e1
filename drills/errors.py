"""The exception tree of drills: every error a user can meet, with what to do next.

    DrillError
    ├── PlanError            the plan file is invalid (unknown key, wrong type): exit 2
    ├── StackError           a service could not be started, reached or identified
    │   ├── ServiceNotReady  a service did not pass its ready check in time
    │   └── NotOurServer     the server on our port is someone else's: never wait or act on it
    ├── FaultError           a fault could not be injected or reverted
    ├── RecoveryError        a recovery step failed
    ├── WorkloadError        the load generator failed to start or died
    └── HistoryError         an op history or journal file cannot be read

Third-party errors are wrapped once, at the boundary, with ``raise ... from exc``.
"""

from __future__ import annotations

from pathlib import Path


class DrillError(Exception):
    """Base of every error drills raises on purpose."""


class PlanError(DrillError):
    """A plan file is invalid; names the file, the key and what is allowed."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = Path(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: {key}: {problem}")


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


class RecoveryError(DrillError):
    """A recovery step failed."""


class WorkloadError(DrillError):
    """The load generator failed to start or died."""


class HistoryError(DrillError):
    """An op history, probe record or journal cannot be read."""

