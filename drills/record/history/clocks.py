"""Putting a load generator's times on the drill's clock.

Every figure is measured on the drill host's monotonic clock (docs/measurement.md rule 1). A
load generator on the same host (same boot id) shares that clock. One on another host
has a monotonic clock of its own: its times are carried over through the wall clocks,
each side's (monotonic, wall) pair read when it started, so they are as good as the two
hosts' clock synchronisation (NTP: about a millisecond on a LAN; the report says so).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from drills.record.history.format import HistoryFile, boot_id


@dataclass(frozen=True)
class DrillClock:
    """The drill host's clocks at one instant, and its boot id."""

    boot: int
    mono: float
    wall: float

    @classmethod
    def now(cls) -> DrillClock:
        return cls(boot_id(), time.monotonic(), time.time())

    def offset_of(self, file: HistoryFile) -> float:
        """What to add to ``file``'s monotonic times to put them on this clock."""
        if file.legacy or file.boot in (0, self.boot):
            return 0.0
        return (file.opened_wall - file.opened_mono) - (self.wall - self.mono)

    def shared_with(self, file: HistoryFile) -> bool:
        return self.offset_of(file) == 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"boot": f"{self.boot:016x}", "mono": self.mono, "wall": self.wall}

    @classmethod
    def from_dict(cls, raw: Any) -> DrillClock | None:
        try:
            return cls(int(str(raw["boot"]), 16), float(raw["mono"]), float(raw["wall"]))
        except (KeyError, TypeError, ValueError):
            return None
