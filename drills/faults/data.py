"""Data faults: an accidental (or malicious) delete behind the workload's back."""

from __future__ import annotations

import random
from pathlib import Path

from drills.clock import Instant
from drills.datastore import delete
from drills.errors import FaultError
from drills.faults.base import Fault, Injected
from drills.history import Outcome, read_history
from drills.stack.service import Service


class SilentDelete(Fault):
    """Delete ``count`` acknowledged writes, chosen at random from the history so far."""

    def __init__(
        self, service: Service, history: Path, count: int, seed: int | None = None
    ) -> None:
        self.target = service
        self.service = service.name
        self.history = history
        self.count = count
        self.rng = random.Random(seed)
        self.name = f"delete {count} acknowledged writes from {service.name}"
        self.deleted: list[int] = []

    def inject(self) -> Injected:
        acked = [op.id for op in read_history(self.history) if op.outcome == Outcome.OK]
        if len(acked) < self.count:
            raise FaultError(f"only {len(acked)} acknowledged writes so far; cannot delete "
                             f"{self.count}. Lengthen the warm-up.")
        chosen = sorted(self.rng.sample(acked, self.count))
        at = Instant.now()
        gone = delete(self.target.endpoint, chosen)
        if gone != self.count:
            raise FaultError(f"deleted {gone} rows, expected {self.count}")
        self.deleted = chosen
        return Injected(f"DELETE of {gone} acknowledged rows by id, from a separate connection",
                        at, {"deleted_ids": chosen})
