"""Recovery from a full disk: the space given back."""

from __future__ import annotations

from typing import cast

from drills.errors import StackError
from drills.record.action import Action
from drills.recovery.base import RecoveryStep
from drills.stack.capabilities import FillsDisk
from drills.stack.service import Service


class FreeDisk(RecoveryStep):
    """Delete what filled the server's disk; the server itself is not touched."""

    def __init__(self, service: Service) -> None:
        if not isinstance(service, FillsDisk):
            raise StackError(f"{service.name}: drills cannot free a disk of a {service.kind} "
                             f"server on the {service.runtime} runtime")
        self.service = service
        self.name = f"free the disk of {service.name}"

    def run(self, timeout_s: float) -> Action:
        return cast(FillsDisk, self.service).free_disk()
