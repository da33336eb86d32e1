"""Restart: the supervisor starts the crashed server again on the same data."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from drills.errors import RecoveryError
from drills.stack.service import Service


class RecoveryStep(ABC):
    """One step of a recovery procedure."""

    name: str

    @abstractmethod
    def run(self, timeout_s: float) -> dict[str, Any]:
        """Do the step; returns facts for the journal."""


class Restart(RecoveryStep):
    """Wait for the old process to be gone, start the server, wait until it is ready."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.name = f"restart {service.name}"

    def run(self, timeout_s: float) -> dict[str, Any]:
        if not self.service.wait_exit(timeout_s):
            raise RecoveryError(f"{self.service.name} did not exit; cannot restart it")
        self.service.start()
        ready_after = self.service.wait_ready(timeout_s)
        return {"mechanism": "supervisor restart (same data, same port)",
                "ready_after_start_s": ready_after}
