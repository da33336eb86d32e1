"""Provision: a new, empty server in place of a lost one, started and answering."""

from __future__ import annotations

from drills.errors import RecoveryError
from drills.record.action import Action
from drills.record.clock import Instant
from drills.recovery.base import RecoveryStep
from drills.stack.service import Service


class Provision(RecoveryStep):
    """Start a new server on an empty data directory or volume; wait until it answers."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.name = f"provision a new {service.name}"

    def run(self, timeout_s: float) -> Action:
        if self.service.alive():
            raise RecoveryError(f"{self.service.name} still runs: provisioning is for a server "
                                "that was lost")
        at = Instant.now()
        self.service.start()  # an empty data location: the server initialises it
        ready_s = self.service.wait_ready(timeout_s)
        return Action(f"a new, empty {self.service.name} ({self.service.runtime} runtime), "
                      "initialised and answering", at,
                      {"phase": "provision", "ready_after_s": ready_s})
