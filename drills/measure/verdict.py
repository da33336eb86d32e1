"""Verdicts: each target is ``pass``, ``fail`` or ``could not verify``; the last never passes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    COULD_NOT_VERIFY = "could not verify"


@dataclass(frozen=True)
class TargetCheck:
    """One row of the verdict table."""

    key: str  # stable: rto_s, rpo_s, max_lost_writes, integrity, calibration.rto, ...
    title: str
    target: str  # as a person reads it: "<= 30 s"
    measured: str
    resolution: str
    verdict: Verdict
    reason: str = ""
    target_value: float | None = None
    measured_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "title": self.title, "target": self.target,
            "measured": self.measured, "resolution": self.resolution,
            "verdict": str(self.verdict), "reason": self.reason,
            "target_value": self.target_value, "measured_value": self.measured_value,
        }


def overall(checks: Iterable[TargetCheck]) -> Verdict:
    """Fail beats could-not-verify beats pass; no checks at all is could-not-verify."""
    verdicts = [c.verdict for c in checks]
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    if not verdicts or Verdict.COULD_NOT_VERIFY in verdicts:
        return Verdict.COULD_NOT_VERIFY
    return Verdict.PASS


def fmt_s(seconds: float | None) -> str:
    """Seconds for people: 3 decimals below 10 s, then 1 decimal, then minutes, hours."""
    if seconds is None:
        return "n/a"
    if seconds < 10:
        return f"{seconds:.3f} s"
    if seconds < 600:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
