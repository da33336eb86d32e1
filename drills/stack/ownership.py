"""Who owns what a run created, and the proof that the owner is gone.

Every container, volume, working directory and server process of a run records its
owner: the drill process, identified so that it cannot be confused with another one:

- ``pid`` and ``start``: the process id and its start time in clock ticks since boot
  (field 22 of /proc/PID/stat); a recycled pid has another start time;
- ``boot``: the kernel's boot id: after a restart every old process is gone;
- ``pidns``: the pid namespace: a pid means nothing in another one (a drill run inside a
  container, seen from the host);
- ``host``: the machine id: a Docker engine may be shared by several machines.

``drill clean`` removes a run's leftovers only when ``status()`` proves the owner dead.
Anything it cannot prove (another host or pid namespace, a label missing or malformed,
a stack someone started by hand from the compose file) is kept and said so.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

LABEL_PREFIX = "io.drills.owner-"
_FIELDS = ("pid", "start", "boot", "pidns", "host")


class OwnerState(StrEnum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "cannot tell"


def process_start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot; None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of the whole line; fields[0] is field 3
    except (IndexError, ValueError):
        return None


def process_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` (R, S, Z...), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rfind(")") + 2 :].split()[0]
    except (OSError, IndexError):
        return None


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "unknown"


def _host_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            found = Path(path).read_text().strip()
        except OSError:
            continue
        if found:
            return found
    return socket.gethostname()


@dataclass(frozen=True)
class Owner:
    """A process, identified beyond its pid."""

    pid: int
    start: int
    boot: str
    pidns: str
    host: str

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(pid, process_start_ticks(pid) or 0, _boot_id(), _pid_namespace(), _host_id())

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "start": self.start, "boot": self.boot, "pidns": self.pidns,
                "host": self.host}

    @classmethod
    def from_dict(cls, raw: Any) -> Owner | None:
        """None unless every field is present and well-formed: what is unproven is kept."""
        if not isinstance(raw, Mapping):
            return None
        try:
            pid, start = raw["pid"], raw["start"]
            boot, pidns, host = raw["boot"], raw["pidns"], raw["host"]
        except KeyError:
            return None
        if isinstance(pid, str) and pid.isdigit():
            pid = int(pid)
        if isinstance(start, str) and start.isdigit():
            start = int(start)
        if not (isinstance(pid, int) and not isinstance(pid, bool) and pid > 1):
            return None
        if not (isinstance(start, int) and not isinstance(start, bool) and start > 0):
            return None
        if not all(isinstance(v, str) and v for v in (boot, pidns, host)):
            return None
        return cls(pid, start, boot, pidns, host)

    def to_labels(self) -> dict[str, str]:
        return {LABEL_PREFIX + k: str(v) for k, v in self.to_dict().items()}

    @classmethod
    def from_labels(cls, labels: Mapping[str, str] | None) -> Owner | None:
        labels = labels or {}
        return cls.from_dict({k: labels[LABEL_PREFIX + k] for k in _FIELDS
                              if LABEL_PREFIX + k in labels})

    def status(self) -> tuple[OwnerState, str]:
        """Whether this owner still runs, with the reason; UNKNOWN whenever it cannot be proven."""
        me = Owner.current()
        if self.host != me.host:
            return OwnerState.UNKNOWN, f"owned by a process on another machine ({self.host[:12]})"
        if self.boot != me.boot:
            return OwnerState.DEAD, "the machine has restarted since the run started"
        if self.pidns != me.pidns:
            return OwnerState.UNKNOWN, (f"owned by pid {self.pid} in another pid namespace "
                                        f"({self.pidns}); run drill clean there")
        start = process_start_ticks(self.pid)
        if start is None:
            return OwnerState.DEAD, f"its drill process (pid {self.pid}) has exited"
        if start != self.start:
            return OwnerState.DEAD, (f"its drill process (pid {self.pid}) has exited; the pid "
                                     "now belongs to another process")
        if process_state(self.pid) == "Z":
            return OwnerState.DEAD, f"its drill process (pid {self.pid}) has exited (zombie)"
        return OwnerState.ALIVE, f"its drill process (pid {self.pid}) is still running"
