"""The fault interface: inject, and revert where it makes sense, each returning an Action.

A fault states the capabilities it needs of its target (drills.stack.capabilities) and
checks them when it is built, so a drill that cannot run is refused before anything is
injected, with the service, the runtime and the missing capability named.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from drills.record.action import Action
from drills.stack.capabilities import require
from drills.stack.service import Service


class Fault(ABC):
    """An injected failure against one service."""

    #: capabilities the target must offer (checked in __init__)
    needs: ClassVar[tuple[type, ...]] = ()
    #: whether revert() undoes it (the drill then reverts in ``finally``)
    revertible: ClassVar[bool] = False

    def __init__(self, target: Service, name: str) -> None:
        for capability in self.needs:
            require(target, capability, name)
        self.target = target
        #: shown in the timeline and report, e.g. "kill postgres"
        self.name = name

    @property
    def service(self) -> str:
        return self.target.name

    @abstractmethod
    def inject(self) -> Action:
        """Apply the fault; say how, when it took effect (t_fault), and any facts."""

    def revert(self) -> Action:
        """Undo the fault."""
        raise NotImplementedError(f"{self.name} cannot be reverted")

    @property
    def revert_name(self) -> str:
        return f"revert {self.name}"
