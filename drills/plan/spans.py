"""Durations as people write them in DR plans: 90 s, 15 min, 6 h, 24 h, 30 d."""

from __future__ import annotations


def span(seconds: float) -> str:
    """``seconds`` in the largest unit that reads naturally (hours up to two days)."""
    for unit, size, least in (("d", 86400, 2 * 86400), ("h", 3600, 3600), ("min", 60, 60)):
        if seconds >= least and (seconds % size == 0 or seconds >= 10 * size):
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"
