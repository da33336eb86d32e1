"""Operations from the op history: each invoke paired with its completion, a chunk at a time.

The checker never holds a history in Python objects: ``History.chunks()`` yields numpy
arrays of ``OP`` rows (id, invoke and completion times, outcome, value digest, error
number), pairing records as it streams each file. Invokes of one writer come in id order
and a completion always after its invoke, so only the operations still in flight are
carried from one chunk to the next. An operation with no completion when its file ends is
``unknown``: the write may or may not have happened.

Each load generator writes a file of its own (``history.bin``, ``history-w1.bin``, ...)
with ids from a range of its own; their times are put on the drill's clock
(drills.record.history.clocks). ``read_history`` builds ``Op`` objects for small histories
(tests, benchmarks).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drills.errors import HistoryError
from drills.record.history.clocks import DrillClock
from drills.record.history.format import (
    CHUNK_RECORDS,
    COMPLETION,
    INVOKE,
    KINDS,
    NO_COMPLETION,
    OUTCOME_OF,
    HistoryFile,
    digest,
)
from drills.record.history.outcome import Outcome

OP = np.dtype([("id", "<i8"), ("invoke", "<f8"), ("complete", "<f8"), ("outcome", "u1"),
               ("digest", "<u8"), ("err", "<u4")])
OK, FAIL, UNKNOWN = (COMPLETION[o] for o in (Outcome.OK, Outcome.FAIL, Outcome.UNKNOWN))


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of the workload, from invoke to completion (small histories only)."""

    id: int
    kind: str
    value: str
    invoke_mono: float
    invoke_wall: float
    outcome: Outcome
    complete_mono: float | None = None
    complete_wall: float | None = None
    error: str | None = None

    @property
    def latency_s(self) -> float | None:
        return None if self.complete_mono is None else self.complete_mono - self.invoke_mono


def ops_table(ops: Sequence[Op]) -> np.ndarray:
    """``Op`` objects as one chunk of ``OP`` rows (tests and small tools)."""
    table = np.zeros(len(ops), dtype=OP)
    for row, op in zip(table, ops, strict=True):
        row["id"], row["invoke"] = op.id, op.invoke_mono
        row["complete"] = math.nan if op.complete_mono is None else op.complete_mono
        row["outcome"] = COMPLETION[op.outcome]
        row["digest"] = digest(op.value)
    return table


@dataclass(frozen=True)
class History:
    """The op history of a scenario: one file per load generator."""

    files: tuple[HistoryFile, ...]
    clock: DrillClock | None = None

    @classmethod
    def open(cls, paths: Sequence[Path], clock: DrillClock | None = None) -> History:
        return cls(tuple(HistoryFile.open(p) for p in paths), clock)

    def chunks(self, chunk: int = CHUNK_RECORDS) -> Iterator[np.ndarray]:
        """Every operation, as ``OP`` arrays; ids are checked unique across the files."""
        for _, ops in self.chunks_by_file(chunk):
            yield ops

    def chunks_by_file(self, chunk: int = CHUNK_RECORDS) -> Iterator[tuple[int, np.ndarray]]:
        """(index of the file, its operations) for every chunk."""
        ranges: list[tuple[int, int, Path]] = []
        for index, file in enumerate(self.files):
            offset = self.clock.offset_of(file) if self.clock else 0.0
            low, high = None, None
            for ops in _paired(file, chunk):
                if offset:
                    ops["invoke"] += offset
                    ops["complete"] += offset
                if len(ops):
                    low = int(ops["id"].min()) if low is None else min(low, int(ops["id"].min()))
                    high = int(ops["id"].max()) if high is None else max(high, int(ops["id"].max()))
                yield index, ops
            if low is not None and high is not None:
                ranges.append((low, high, file.path))
        ranges.sort()
        for (_, high, path), (low, _, other) in itertools.pairwise(ranges):
            if low <= high:
                raise HistoryError(f"{path.name} and {other.name} share op ids: each load "
                                   "generator must write ids of its own range")

    def error_text(self, file_index: int, number: int) -> str | None:
        return self.files[file_index].error_text(number)


def _paired(file: HistoryFile, chunk: int) -> Iterator[np.ndarray]:
    """Pair one file's invokes with their completions, yielding completed operations."""
    in_flight = np.zeros(0, dtype=OP)
    last_id: int | None = None
    for records in file.records(chunk):
        types = records["type"]
        invoked = records[types == INVOKE]
        completed = records[(types != INVOKE)]
        strange = ~np.isin(completed["type"], list(OUTCOME_OF))
        if strange.any():
            raise HistoryError(f"{file.path}: a record of unknown type "
                               f"{int(completed['type'][strange][0])}")
        if (invoked["kind"] >= len(KINDS)).any():
            raise HistoryError(f"{file.path}: an operation of unknown kind")
        ids = invoked["id"]
        if len(ids) and ((last_id is not None and ids[0] <= last_id)
                         or (np.diff(ids) <= 0).any()):
            raise HistoryError(f"{file.path}: op ids are invoked out of order or twice "
                               f"(near id {int(ids[0])})")
        if len(ids):
            last_id = int(ids[-1])
        fresh = np.zeros(len(invoked), dtype=OP)
        fresh["id"], fresh["invoke"], fresh["digest"] = ids, invoked["mono"], invoked["digest"]
        fresh["complete"] = math.nan
        pending = np.concatenate([in_flight, fresh]) if len(in_flight) else fresh
        if not len(completed):
            in_flight = pending
            continue
        where = np.searchsorted(pending["id"], completed["id"])
        found = where < len(pending)
        found[found] = pending["id"][where[found]] == completed["id"][found]
        if not found.all():
            orphans = completed["id"][~found][:5].tolist()
            raise HistoryError(f"{file.path}: completions without an invoke, or completed "
                               f"twice: {orphans}")
        if len(np.unique(where)) != len(where):
            raise HistoryError(f"{file.path}: an operation completed twice")
        pending["complete"][where] = completed["mono"]
        pending["outcome"][where] = completed["type"]
        pending["err"][where] = completed["err"]
        done = np.zeros(len(pending), dtype=bool)
        done[where] = True
        in_flight = pending[~done]
        yield pending[done]
    if len(in_flight):
        in_flight["outcome"] = UNKNOWN
        in_flight["err"] = NO_COMPLETION
        yield in_flight


def read_history(paths: Path | Sequence[Path], clock: DrillClock | None = None) -> list[Op]:
    """Every operation as an ``Op``, in invoke order: for small histories only.

    The value is not kept on disk (only its digest), so ``Op.value`` is empty.
    """
    history = History.open([paths] if isinstance(paths, Path) else paths, clock)
    ops: list[Op] = []
    for index, chunk in history.chunks_by_file():
        for row in chunk.tolist():
            op_id, invoke, complete, outcome, _, err = row
            done = not math.isnan(complete)
            ops.append(Op(int(op_id), "write", "", float(invoke), math.nan,
                          OUTCOME_OF[int(outcome)], float(complete) if done else None,
                          None, history.error_text(index, int(err))))
    ops.sort(key=lambda o: (o.invoke_mono, o.id))
    return ops
