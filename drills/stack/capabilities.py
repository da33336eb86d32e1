"""Optional capabilities of a service, each a protocol of its own.

Like Jepsen's ``db.clj`` (``Kill`` and ``Pause`` are separate optional protocols), a
service offers only what its kind and runtime can do: a server whose processes drills
cannot signal is not killable, a stateless one has no data volume. A fault names the
capability it needs and checks its target when it is built, so a drill that cannot run
is refused with the service, the runtime and the missing capability named, before
anything is injected (``require``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar, cast, runtime_checkable

from drills.action import Action
from drills.errors import CapabilityMissing

if TYPE_CHECKING:
    from drills.stack.service import Service


@runtime_checkable
class Killable(Protocol):
    """Its processes can be crashed at once (SIGKILL), as a power cut or OOM kill would."""

    def kill(self) -> Action:
        """Crash the server; the action took effect when the first signal went out."""
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


#: every capability, its name in messages, and what it means
CAPABILITIES: dict[type, tuple[str, str]] = {
    Killable: ("killable", "its processes can be crashed with SIGKILL"),
    Pausable: ("pausable", "its processes can be frozen and thawed"),
    HasDataVolume: ("backed by a data volume", "its data can be lost or a file of it corrupted"),
    Exec: ("able to run commands inside", "exec into its container or environment"),
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
