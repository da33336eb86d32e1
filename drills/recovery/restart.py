"""Restart: start the crashed server again on the same data, and wait until it is ready."""

from __future__ import annotations

import time

from drills.errors import RecoveryError
from drills.record.action import Action
from drills.record.clock import Instant
from drills.recovery.base import RecoveryStep
from drills.stack.service import Service


class Restart(RecoveryStep):
    """Wait for the old process to be gone, start the server, wait until it is ready."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.name = f"restart {service.name}"

    def run(self, timeout_s: float) -> Action:
        if not self.service.wait_exit(timeout_s):
            raise RecoveryError(f"{self.service.name} did not exit; cannot restart it")
        at = Instant.now()
        self.service.start()
        started = time.monotonic()
        ready_after = self.service.wait_ready(timeout_s)
        return Action(f"start again on the same data and port ({self.service.runtime} runtime)",
                      at, {"start_s": started - at.mono, "ready_after_start_s": ready_after})
