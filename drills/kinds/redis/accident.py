"""An accident on Redis: FLUSHALL, issued at t_fault by someone who meant another server."""

from __future__ import annotations

from drills.faults.base import Fault
from drills.kinds.redis import store
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack.service import Service


class FlushAll(Fault):
    """FLUSHALL from a separate connection; t_fault is its acknowledgement."""

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"accidental FLUSHALL on {service.name}")

    def inject(self) -> Action:
        with store.client(self.target.endpoint, timeout_s=30) as r:
            keys = int(r.dbsize())
            sent = Instant.now()
            r.flushall()
            at = Instant.now()
        return Action("FLUSHALL from a separate connection", at,
                      {"keys_before": keys, "sent_mono": sent.mono})
