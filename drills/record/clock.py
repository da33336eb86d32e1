"""Instants: a monotonic reading for durations and a wall-clock reading for display."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Instant:
    """One moment, read from both clocks.

    ``mono`` is ``time.monotonic()`` (CLOCK_MONOTONIC, shared by every process on the
    host), used for every duration; ``wall`` is ``time.time()``, used only to display
    and correlate with logs.
    """

    mono: float
    wall: float

    @classmethod
    def now(cls) -> Instant:
        return cls(mono=time.monotonic(), wall=time.time())

    def to_dict(self) -> dict[str, float]:
        return {"mono": self.mono, "wall": self.wall}
