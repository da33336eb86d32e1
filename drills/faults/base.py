"""The fault interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from drills.clock import Instant


@dataclass(frozen=True)
class Injected:
    """What a fault (or its revert) did. ``at`` is when it took effect: t_fault."""

    mechanism: str
    at: Instant
    facts: dict[str, Any] = field(default_factory=dict)


class Fault(ABC):
    """An injected failure against one service."""

    #: shown in the timeline and report, e.g. "kill postgres"
    name: str
    service: str
    revertible: bool = False

    @abstractmethod
    def inject(self) -> Injected:
        """Apply the fault; say how, when it took effect, and any facts for the journal."""

    def revert(self) -> Injected:
        """Undo the fault."""
        raise NotImplementedError(f"{self.name} cannot be reverted")

    @property
    def revert_name(self) -> str:
        return f"revert {self.name}"
