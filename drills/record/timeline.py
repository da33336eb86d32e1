"""The timeline: the single append-only record of a drill's events.

RTO, RPO, the charts and the report are pure functions of it (plus the op history and
the probe record it points to). Steps are timed with a context manager::

    with timeline.step("restart postgres", category=Category.RECOVERY):
        service.restart()
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from drills.record.clock import Instant


class EventKind(StrEnum):
    """What happened."""

    STACK_UP = "stack.up"
    LOAD_START = "load.start"
    LOAD_STOP = "load.stop"
    STEP_START = "step.start"
    STEP_END = "step.end"
    FIRST_GOOD = "probe.first_good"
    CALIBRATION = "calibration"
    ERROR = "error"
    CHECK_DONE = "check.done"
    NOTE = "note"
    #: a data store's tables and their row counts (drills.measure.tables)
    INVENTORY = "inventory"
    #: a target the plan cannot hold on its real schedule (drills.measure.plan_gaps)
    PLAN_GAP = "plan.gap"
    #: one member's role and replication lag, sampled through the drill (drills.replication)
    REPLICATION = "replication"
    #: the ledger of a primary that was demoted, read before it rejoined (split brain)
    DEMOTED_READ = "replication.demoted"


class Category(StrEnum):
    """What a step belongs to; RTO phases are cut at fault and recovery steps."""

    SETUP = "setup"
    BACKUP = "backup"  # a backup taken, or verified
    FAULT = "fault"
    REVERT = "revert"
    RECOVERY = "recovery"
    CHECK = "check"
    TEARDOWN = "teardown"


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the timeline."""

    seq: int
    kind: EventKind
    name: str
    at: Instant
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": str(self.kind),
            "name": self.name,
            "mono": self.at.mono,
            "wall": self.at.wall,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        return cls(
            seq=int(raw["seq"]),
            kind=EventKind(raw["kind"]),
            name=str(raw["name"]),
            at=Instant(mono=float(raw["mono"]), wall=float(raw["wall"])),
            data=dict(raw.get("data", {})),
        )


@dataclass(frozen=True, slots=True)
class Step:
    """A step rebuilt from its start and end events."""

    name: str
    category: Category
    start: Instant
    end: Instant | None
    ok: bool
    data: Mapping[str, Any]

    @property
    def duration_s(self) -> float | None:
        return None if self.end is None else self.end.mono - self.start.mono


class Timeline:
    """Append-only, thread-safe list of events."""

    def __init__(self, events: tuple[Event, ...] = ()) -> None:
        self._events: list[Event] = list(events)
        self._lock = threading.Lock()

    def record(
        self, kind: EventKind, name: str, at: Instant | None = None, **data: Any
    ) -> Event:
        with self._lock:
            event = Event(len(self._events), kind, name, at or Instant.now(), data)
            self._events.append(event)
            return event

    @contextmanager
    def step(self, name: str, category: Category, **data: Any) -> Iterator[dict[str, Any]]:
        """Time a step; the yielded dict is added to the end event (results, mechanism)."""
        self.record(EventKind.STEP_START, name, category=str(category), **data)
        extra: dict[str, Any] = {}
        try:
            yield extra
        except BaseException as exc:
            self.record(
                EventKind.STEP_END, name, category=str(category), ok=False,
                error=f"{type(exc).__name__}: {exc}", **extra,
            )
            raise
        self.record(EventKind.STEP_END, name, category=str(category), ok=True, **extra)

    @property
    def events(self) -> tuple[Event, ...]:
        with self._lock:
            return tuple(self._events)

    def steps(self, category: Category | None = None) -> list[Step]:
        return steps_of(self.events, category)

    def to_list(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.events]

    @classmethod
    def from_list(cls, raw: list[Mapping[str, Any]]) -> Timeline:
        return cls(tuple(Event.from_dict(r) for r in raw))


def steps_of(events: tuple[Event, ...], category: Category | None = None) -> list[Step]:
    """Pair start and end events into steps, in start order."""
    open_steps: dict[str, list[Event]] = {}
    steps: list[tuple[Event, Event | None]] = []
    for event in events:
        if event.kind == EventKind.STEP_START:
            open_steps.setdefault(event.name, []).append(event)
            steps.append((event, None))
        elif event.kind == EventKind.STEP_END and open_steps.get(event.name):
            start = open_steps[event.name].pop(0)
            index = next(i for i, (s, _) in enumerate(steps) if s is start)
            steps[index] = (start, event)
    result = []
    for start, end in steps:
        cat = Category(start.data.get("category", Category.SETUP))
        if category is not None and cat != category:
            continue
        data = {**start.data, **(end.data if end else {})}
        data.pop("category", None)
        result.append(
            Step(
                name=start.name,
                category=cat,
                start=start.at,
                end=end.at if end else None,
                ok=bool(end and end.data.get("ok", False)),
                data=data,
            )
        )
    return result
