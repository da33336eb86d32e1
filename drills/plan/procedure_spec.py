"""The ``procedures`` and ``backups`` sections of a version 2 plan.

A procedure is one of the team's own commands (a restore script, a chaos script, a
backup job): its argv, never through a shell unless the plan spells ``sh -c``. A backup
job is the team's real schedule and retention, the method (built-in or a procedure),
and the compressed interval the drill uses in its place (docs/measurement.md rule 7).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: ``{name}`` or ``{name:arg}`` in a procedure's argv or env values
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([A-Za-z0-9_.-]+))?\}")
#: what a reader takes for a placeholder: ``{`` (not ``${``, a shell's) then a name and
#: ``}`` or ``:`` (not ``: ``, as in jq's ``{id: .id}``); each must be a whole PLACEHOLDER
_ATTEMPT = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)(?=\}|:(?!\s))")
#: what a placeholder may name, and what it becomes at run time
PLACEHOLDERS = {
    "project": "the Compose project drills brought up (drills-<run id>-...)",
    "run_dir": "the scenario's records directory",
    "host": "the host of service ARG",
    "port": "the port of service ARG",
    "url": "the base URL of service ARG",
    "user": "the user drills connects to service ARG as",
    "database": "the database of service ARG",
    "password": "the password of service ARG (in env values only: never argv)",
    "latest": "the path of the latest backup of job ARG (a file, or its directory)",
    "backup_dir": "the directory the backup job being taken writes into",
}
_NEEDS_ARG = frozenset({"host", "port", "url", "user", "database", "password", "latest"})


def placeholders(text: str) -> list[tuple[str, str | None]]:
    """The placeholders of ``text`` as (name, argument)."""
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(text)]


def malformed(text: str) -> list[str]:
    """What in ``text`` reads as a placeholder but is not one (``{host:}``, ``{latest:job``)."""
    bad = []
    for m in _ATTEMPT.finditer(text):
        if PLACEHOLDER.match(text, m.start()) is None:
            end = text.find("}", m.start())
            shown = text[m.start():end + 1] if 0 <= end - m.start() < 60 else \
                text[m.start():m.start() + 40]
            bad.append(shown)
    return bad


def needs_arg(name: str) -> bool:
    return name in _NEEDS_ARG


@dataclass(frozen=True)
class Procedure:
    """One of the team's commands, as the plan states it."""

    name: str
    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 600.0

    @property
    def through_shell(self) -> bool:
        """Whether the plan asked for a shell itself (``sh -c ...``, ``bash -c ...``)."""
        return (len(self.argv) >= 2 and Path(self.argv[0]).name in ("sh", "bash", "dash")
                and self.argv[1] == "-c")

    def backup_jobs(self) -> list[str]:
        """The backup jobs whose latest backup this procedure uses (``{latest:JOB}``)."""
        found: list[str] = []
        for text in (*self.argv, *self.env.values()):
            for name, arg in placeholders(text):
                if name == "latest" and arg is not None and arg not in found:
                    found.append(arg)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "argv": list(self.argv), "cwd": str(self.cwd),
                "env": dict(self.env), "timeout_s": self.timeout_s}


@dataclass(frozen=True)
class BackupJob:
    """A backup job of the plan: what it backs up, how, and on which schedule."""

    name: str
    service: str
    #: a built-in method (``pg_dump``, ``base_backup``, ``redis_rdb``) or None
    method: str | None
    #: the team's command that takes the backup, when not built in
    procedure: str | None
    every_s: float
    at: str | None = None  # "03:00": when in the day it runs, for people
    retention_s: float | None = None
    #: the interval the drill uses instead of ``every_s``: the fault comes this long after
    #: the backup started, the worst moment of a compressed schedule
    compressed_to_s: float = 10.0
    #: ``verify: restore``: the procedure restoring this job (the one naming
    #: ``{latest:JOB}``), rehearsed into a scratch server before the fault
    #: (drills.plan_drill.rehearsal); None: no rehearsal
    rehearse: str | None = None
    #: the job this one continues (``base: JOB``): WAL archived between base backups,
    #: incrementals after a full, a log shipped after a dump (drills.plan.chains)
    base: str | None = None
    #: how late a write reaches this link after its interval (``lag``: the archive's copy
    #: time, replication lag); None: the backup's own duration, known only once taken
    lag_s: float | None = None

    @property
    def taken(self) -> bool:
        """Whether the drill takes this job itself (a method or a procedure).

        If not, it is a continuous link the team's server keeps (WAL archiving by
        archive_command).
        """
        return self.method is not None or self.procedure is not None

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "service": self.service, "method": self.method,
               "procedure": self.procedure, "every_s": self.every_s, "at": self.at,
               "retention_s": self.retention_s, "compressed_to_s": self.compressed_to_s}
        if self.rehearse is not None:  # only then: other plans' records keep their digest
            out.update(verify="restore", rehearse=self.rehearse)
        if self.base is not None:
            out.update(base=self.base, lag_s=self.lag_s)
        return out
