"""The fault interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Fault(ABC):
    """An injected failure against one service."""

    #: shown in the timeline and report, e.g. "kill postgres"
    name: str
    service: str
    revertible: bool = False

    @abstractmethod
    def inject(self) -> dict[str, Any]:
        """Apply the fault; returns what happened, with a ``mechanism`` key, for the journal."""

    def revert(self) -> dict[str, Any]:
        """Undo the fault; returns what happened, with a ``mechanism`` key."""
        raise NotImplementedError(f"{self.name} cannot be reverted")

    @property
    def revert_name(self) -> str:
        return f"revert {self.name}"
