"""A known replication delay, set before the fault: the calibration's yardstick.

Toxiproxy's latency toxic on the link a replica streams through: every byte of WAL the
primary sends reaches the replica ``ms`` later. Asynchronous replication then trails the
primary by that delay, and a failover after the primary's loss (with its link) loses the
writes acknowledged in the last ``ms`` (Judge.lag_calibration).
"""

from __future__ import annotations

from drills.network.link import Link
from drills.network.toxiproxy import Toxic
from drills.record.action import Action
from drills.record.clock import Instant
from drills.recovery.base import RecoveryStep


class DelayReplication(RecoveryStep):
    """Delay the replication link by ``ms`` (downstream: primary to replica)."""

    def __init__(self, link: Link, ms: int) -> None:
        self.link = link
        self.ms = int(ms)
        self.name = f"delay replication on {link.title} by {self.ms} ms"

    def run(self, timeout_s: float) -> Action:
        toxic = Toxic("drills-replication-delay", "latency", {"latency": self.ms, "jitter": 0},
                      "downstream")
        self.link.api.add_toxic(self.link.name, toxic)
        return Action(f"Toxiproxy latency toxic {self.ms} ms downstream on proxy "
                      f"{self.link.name}", Instant.now(),
                      {"link": self.link.describe(), "delay_ms": self.ms})
