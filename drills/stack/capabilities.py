"""Optional capabilities of a service, each a protocol of its own.

Like Jepsen's ``db.clj`` (``Kill`` and ``Pause`` are separate optional protocols), a
service offers only what its kind and runtime can do: a server whose processes drills
cannot signal is not killable, a stateless one has no data volume. A fault names the
capability it needs and checks its target when it is built, so a drill that cannot run
is refused with the service, the runtime and the missing capability named, before
anything is injected (``require``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar, cast, runtime_checkable

from drills.errors import CapabilityMissing
from drills.record.action import Action

if TYPE_CHECKING:
    from drills.network.link import Link
    from drills.stack.service import Service


@runtime_checkable
class Killable(Protocol):
    """Its processes can be crashed at once (SIGKILL), as a power cut or OOM kill would."""

    def kill(self) -> Action:
        """Crash the server; the action took effect when the first signal went out."""
        ...


@runtime_checkable
class LosesPower(Protocol):
    """Its data lives on a file system that forgets what was not fsynced (LazyFS).

    A SIGKILL leaves the kernel's page cache intact; a power cut does not. Such a server
    can lose power: every process killed, then every write not yet fsynced dropped.
    """

    def cut_power(self) -> Action:
        """Kill every process, wait until they are gone, drop the un-fsynced writes."""
        ...


@runtime_checkable
class FillsDisk(Protocol):
    """Its log or data lives on a small file system of its own, which can be filled."""

    def fill_disk(self) -> Action:
        """Fill that file system until a write gets ENOSPC."""
        ...

    def free_disk(self) -> Action:
        """Give back what ``fill_disk`` took."""
        ...


@runtime_checkable
class Pausable(Protocol):
    """Every process of it can be suspended and resumed (SIGSTOP / cgroup freezer)."""

    def freeze(self) -> Action: ...

    def thaw(self) -> Action: ...


@runtime_checkable
class HasDataVolume(Protocol):
    """Its data lives in a directory or volume of its own, which can be lost or damaged."""

    def lose_data(self) -> Action:
        """Server loss: stop the server the hard way and delete its data; a start begins empty."""
        ...

    def corrupt_file(self, path: str, offset: int, data: bytes) -> Action:
        """Overwrite ``data`` at ``offset`` of ``path`` (relative to the data directory)."""
        ...


@dataclass(frozen=True)
class ExecResult:
    """What a command run inside a service's environment returned."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes


@runtime_checkable
class Exec(Protocol):
    """A command can run inside its environment: its container, or its account and tools."""

    def exec(self, argv: Sequence[str], timeout_s: float = 60.0,
             stdin: bytes | None = None) -> ExecResult: ...


@dataclass(frozen=True)
class BackupDir:
    """Where a service's backups live: outside its data, removed with the run.

    ``host`` is where the drill reads, measures and checks the files; ``inside`` is the
    same directory as the server and its own tools see it (a bind mount in a container).
    """

    host: Path
    inside: str

    def path(self, name: str) -> str:
        """``name`` in the directory, as the server's tools see it."""
        return posixpath.join(self.inside, name)


@runtime_checkable
class KeepsBackups(Protocol):
    """Backups can be kept beside it and restored into it.

    It has a backup directory outside its data (which a server loss does not touch), and
    commands can run on its data while it is stopped or gone: a restore into an empty
    data directory, a recovery configuration written before it starts.
    """

    def backup_dir(self) -> BackupDir: ...

    @property
    def data_path(self) -> str:
        """The data directory as the server's own tools see it."""
        ...

    def exec_offline(self, argv: Sequence[str], timeout_s: float = 600.0) -> ExecResult:
        """Run a command as the server's account while it is stopped (or lost).

        Its data directory (empty after a loss) and its backup directory are in their
        places.
        """
        ...


@runtime_checkable
class Reconfigurable(Protocol):
    """Its server can be started once with configuration overrides on its command line.

    For a restore's first start (Redis from an RDB starts with AOF off, docs/environment.md); the
    next ``start()`` uses the service's own configuration again.
    """

    def start_with(self, overrides: Mapping[str, str]) -> None: ...


@runtime_checkable
class CarriesLinks(Protocol):
    """It carries other services' connections (Toxiproxy): links where network faults act."""

    def add_link(self, source: str, target: Service) -> Link:
        """Plan a link from service ``source`` to ``target`` (created when this is ready)."""
        ...

    def link(self, source: str, target: str) -> Link: ...

    def links(self) -> tuple[Link, ...]: ...


#: every capability, its name in messages, and what it means
CAPABILITIES: dict[type, tuple[str, str]] = {
    Killable: ("killable", "its processes can be crashed with SIGKILL"),
    Pausable: ("pausable", "its processes can be frozen and thawed"),
    HasDataVolume: ("backed by a data volume", "its data can be lost or a file of it corrupted"),
    Exec: ("able to run commands inside", "exec into its container or environment"),
    Reconfigurable: ("able to start with configuration overrides",
                     "a start with settings overridden on the server's command line"),
    KeepsBackups: ("able to keep and restore backups",
                   "a backup directory outside its data, and commands on its stopped data"),
    CarriesLinks: ("a network proxy", "other services' connections pass through it (Toxiproxy)"),
}

C = TypeVar("C")


def offered(service: Service) -> tuple[str, ...]:
    """The names of the capabilities ``service`` offers."""
    return tuple(name for cap, (name, _) in CAPABILITIES.items() if service.supports(cap))


def require(service: Service, capability: type[C], fault: str) -> C:
    """``service`` as ``capability``; CapabilityMissing (naming everything) if it lacks it."""
    if not service.supports(capability):
        name, meaning = CAPABILITIES[capability]
        raise CapabilityMissing(fault, service.name, service.runtime, name, meaning,
                                offered(service))
    return cast(C, service)
