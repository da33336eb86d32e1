"""Data faults: writes deleted behind the workload's back, data lost, a data file damaged."""

from __future__ import annotations

import random
from typing import cast

import numpy as np

from drills.datastore import store_for
from drills.errors import FaultError
from drills.faults.base import Fault
from drills.record.action import Action
from drills.record.clock import Instant
from drills.record.history import History
from drills.record.history.ops import OK
from drills.record.journal import ScenarioFiles
from drills.stack.capabilities import HasDataVolume
from drills.stack.service import Service


class SilentDelete(Fault):
    """Delete ``count`` acknowledged writes, chosen at random from the history so far."""

    def __init__(
        self, service: Service, files: ScenarioFiles, count: int, seed: int | None = None
    ) -> None:
        if count < 1:
            raise FaultError(f"delete {count} writes: the count must be at least 1")
        super().__init__(service, f"delete {count} acknowledged writes from {service.name}")
        self.store = store_for(service.kind)
        self.files = files
        self.count = count
        self.rng = random.Random(seed)
        self.deleted: list[int] = []

    def inject(self) -> Action:
        # the ids acknowledged so far, by every load generator (their histories grow as
        # this reads them: a record cut short at the end is left for the next read)
        history = History.open(self.files.histories())
        acked = np.sort(np.concatenate(
            [ops["id"][ops["outcome"] == OK] for ops in history.chunks()] or [np.zeros(0)]
        ).astype(np.int64)).tolist()
        if len(acked) < self.count:
            raise FaultError(f"only {len(acked)} acknowledged writes so far; cannot delete "
                             f"{self.count}. Lengthen the warm-up.")
        chosen = sorted(self.rng.sample(acked, self.count))
        at = Instant.now()
        gone = self.store.delete(self.target.endpoint, chosen)
        if gone != self.count:
            raise FaultError(f"deleted {gone} rows, expected {self.count}")
        self.deleted = chosen
        return Action(f"DELETE of {gone} acknowledged writes by id, from a separate connection",
                      at, {"deleted_ids": chosen})


class LoseData(Fault):
    """Server loss: the server stops the hard way and its data directory or volume is gone."""

    needs = (HasDataVolume,)

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"lose {service.name} and its data")

    def inject(self) -> Action:
        return cast(HasDataVolume, self.target).lose_data()


class CorruptFile(Fault):
    """Overwrite bytes of one file of the server's data (a torn write, a bad disk)."""

    needs = (HasDataVolume,)

    def __init__(self, service: Service, path: str, offset: int, data: bytes) -> None:
        super().__init__(service, f"corrupt {path} of {service.name}")
        self.path, self.offset, self.data = path, offset, data

    def inject(self) -> Action:
        return cast(HasDataVolume, self.target).corrupt_file(self.path, self.offset, self.data)
