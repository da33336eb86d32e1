"""Scenario records as the report reads them: the journal and op history beside a result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drills.errors import HistoryError
from drills.history import Op, read_history
from drills.journal import Journal, ScenarioFiles, load_journal
from drills.timeline import Step

#: The saved files every figure of the report is recomputed from.
SOURCE_FILES = ("journal.json", "history.jsonl", "probes.jsonl", "readback.json")


@dataclass(frozen=True)
class Records:
    """What the report could read for one scenario, and why not where it could not."""

    files: ScenarioFiles
    journal: Journal | None
    ops: list[Op] | None
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
    ops: list[Op] | None = None
    try:
        journal = load_journal(files)
    except HistoryError as exc:
        problems.append(str(exc))
    if not files.history.exists():
        problems.append(f"no op history was recorded ({files.history.name} is missing)")
    else:
        try:
            ops = read_history(files.history)
        except HistoryError as exc:
            problems.append(f"op history unreadable: {exc}")
    return Records(files, journal, ops, tuple(problems))
