"""Scenario records as the report reads them: the journal beside a result.

The op history is read once, by the evaluation, which bins it for the chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drills.errors import HistoryError
from drills.record.journal import Journal, ScenarioFiles, load_journal
from drills.record.timeline import Step

#: The saved files every figure of the report is recomputed from.
SOURCE_FILES = ("journal.json", "history*.bin", "probes.jsonl", "readback.json",
                "readback.bin")


@dataclass(frozen=True)
class Records:
    """What the report could read for one scenario, and why not where it could not."""

    files: ScenarioFiles
    journal: Journal | None
    problems: tuple[str, ...] = ()

    @property
    def steps(self) -> list[Step]:
        return self.journal.timeline.steps() if self.journal else []

    @property
    def duration_s(self) -> float | None:
        """From the journal's first to its last event (monotonic clock)."""
        if self.journal is None or not self.journal.timeline.events:
            return None
        monos = [e.at.mono for e in self.journal.timeline.events]
        return max(monos) - min(monos)


def load_records(root: Path) -> Records:
    """Read a scenario directory; an unreadable file becomes a problem, never an exception."""
    files = ScenarioFiles(root)
    problems: list[str] = []
    journal: Journal | None = None
    try:
        journal = load_journal(files)
    except HistoryError as exc:
        problems.append(str(exc))
    return Records(files, journal, tuple(problems))
