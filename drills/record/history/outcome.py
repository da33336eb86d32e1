"""What became of an operation (docs/measurement.md rule 2)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What became of an operation."""

    OK = "ok"  # acknowledged
    FAIL = "fail"  # certainly not applied: refused before it was sent
    UNKNOWN = "unknown"  # sent, no answer: it may or may not have happened
