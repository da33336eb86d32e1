"""Backups the drill takes from the live stack, and what it records about each.

A backup has a consistency point (docs/measurement.md rule 10): the instant of the data it holds.
A dump's is its start (the snapshot it reads), a base backup's the end of its own WAL,
an RDB's the fork behind BGSAVE. After a restore, an acknowledged write from before that
point which is missing means the backup was incomplete; one from after it was lost by the
design of the method, and those make the measured RPO.

Every backup is verified right after it is taken, by the tool made for it
(``pg_restore --list``, ``pg_verifybackup``, ``redis-check-rdb``), before any fault; a
team's backup job by what it made (drills.backup.content).
Backups live in the service's backup directory (drills.stack.capabilities.BackupDir),
outside its data, and go with the run.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.record.clock import Instant
from drills.stack.capabilities import Exec, KeepsBackups, require
from drills.stack.service import Service


@dataclass(frozen=True)
class ConsistencyPoint:
    """The instant a backup's data is from, bracketed by what the drill could observe.

    Every write acknowledged before ``earliest`` is in the backup; none invoked after
    ``latest`` is. ``what`` says what the point is (a snapshot, the end of the WAL).
    """

    earliest: Instant
    latest: Instant
    what: str
    facts: Mapping[str, Any] = field(default_factory=dict)  # LSN, snapshot, timeline

    @property
    def resolution_s(self) -> float:
        return self.latest.mono - self.earliest.mono

    def to_dict(self) -> dict[str, Any]:
        return {"earliest_mono": self.earliest.mono, "earliest_wall": self.earliest.wall,
                "latest_mono": self.latest.mono, "latest_wall": self.latest.wall,
                "what": self.what, **self.facts}


@dataclass(frozen=True)
class Backup:
    """One backup as taken: where it is, what it holds, how big, its checksum."""

    name: str
    method: str  # "pg_dump -Fc", "pg_basebackup + WAL archive", "RDB after BGSAVE"
    service: str
    host_path: Path  # where the drill reads it
    inside: str  # where the server's tools see it
    consistency: ConsistencyPoint
    started: Instant
    ended: Instant
    size_bytes: int
    sha256: str  # of the file; of the backup manifest for a directory
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.ended.mono - self.started.mono

    def to_dict(self) -> dict[str, Any]:
        return {"backup": self.name, "method": self.method, "service": self.service,
                "path": str(self.host_path), "inside": self.inside,
                "consistency": self.consistency.to_dict(),
                "started_mono": self.started.mono, "ended_mono": self.ended.mono,
                "duration_s": self.duration_s, "size_bytes": self.size_bytes,
                "sha256": self.sha256, **self.facts}


@dataclass(frozen=True)
class BackupVerification:
    """What the backup's own tool said about it.

    ``ok`` is None when its content could not be verified: a format drills does not check
    ("made, N bytes; content judged by the restore"), a checking tool missing or too old
    for the file. That is never a pass (docs/measurement.md rule 8), nor a damaged backup:
    the drill goes on and the restore judges it; ``detail`` says why and what to do.
    """

    ok: bool | None
    tool: str  # the command, as run
    detail: str  # its summary, why it failed, or why it could not be verified

    def to_dict(self) -> dict[str, Any]:
        return {"verified": self.ok, "tool": self.tool, "detail": self.detail}


class BackupMethod(ABC):
    """A way to back a service up, and to check what it made."""

    #: short name for backup names and the report: "dump", "base", "rdb"
    label: str
    #: in words, for the report
    method: str

    def __init__(self, service: Service, timeout_s: float = 3600.0) -> None:
        self.service = service
        what = f"{self.method} of {service.name}"
        self.store = require(service, KeepsBackups, what)
        self.exec = require(service, Exec, what)  # every method runs the server's own tools
        self.timeout_s = timeout_s

    @abstractmethod
    def take(self, name: str) -> Backup:
        """Take a backup called ``name`` from the live service."""

    @abstractmethod
    def verify(self, backup: Backup) -> BackupVerification:
        """Check the backup with its own tool, right after it was taken."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file under a directory."""
    if path.is_file():
        return path.stat().st_size
    return sum(os.path.getsize(os.path.join(root, f))
               for root, _, files in os.walk(path) for f in files)


def output_of(stream: bytes, limit: int = 2000) -> str:
    """A tool's output for the journal: text, its last ``limit`` characters."""
    return stream.decode(errors="replace").strip()[-limit:]
