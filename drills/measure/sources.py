"""What a drill's evaluation reads: the journal, op histories, probe record and read-back.

Each is loaded (the histories opened, not read) or comes with the reason it could not be.
"""

from __future__ import annotations

from dataclasses import dataclass

from drills.errors import HistoryError
from drills.record.history import DrillClock, History, ProbeAttempt, read_probes
from drills.record.journal import Journal, ScenarioFiles, load_journal
from drills.record.readback import ReadBack, load_readback
from drills.record.timeline import Event, EventKind, Step, steps_of


@dataclass
class Sources:
    """What could be read back from the files; None where it could not."""

    journal: Journal
    concluded: tuple[Event, ...]  # the events up to the conclusion; the rest is teardown
    steps: list[Step]
    history: History | None
    probes: list[ProbeAttempt] | None
    readback: ReadBack | None
    problems: list[str]

    @property
    def readable(self) -> bool:
        """Whether the read-back gave rows to check the writes against."""
        return self.readback is not None and self.readback.rows is not None


def gather(files: ScenarioFiles) -> Sources:
    journal = load_journal(files)
    problems: list[str] = []
    history: History | None = None
    probes: list[ProbeAttempt] | None = None
    readback: ReadBack | None = None
    paths = files.histories()
    if not paths:
        problems.append("no op history was recorded")
    else:
        try:
            history = History.open(paths, DrillClock.from_dict(journal.environment.get("clock")))
        except HistoryError as exc:
            problems.append(f"op history unreadable: {exc}")
    try:
        probes = read_probes(files.probes) if files.probes.exists() else None
        if probes is None:
            problems.append("no probe record was saved")
    except HistoryError as exc:
        problems.append(f"probe record unreadable: {exc}")
    if files.readback.exists():
        try:
            readback = load_readback(files.readback)
        except HistoryError as exc:
            problems.append(f"read-back unreadable: {exc}")
        if readback is not None and readback.rows is None:
            problems.append(f"read-back failed: {readback.error}")
    else:
        problems.append("the store was never read back after recovery")
    events = journal.timeline.events
    done = next((i for i, e in enumerate(events) if e.kind == EventKind.CHECK_DONE), None)
    concluded = events if done is None else events[: done + 1]
    return Sources(journal, concluded, steps_of(concluded), history, probes, readback, problems)
