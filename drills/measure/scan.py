"""One pass over the op history, joined with the read-back, feeding every measurement.

The history streams in chunks (drills.record.history.ops); each chunk's ids are looked up in the
read-back's sorted ids (a binary search per chunk, never a dictionary), and the chunk with
what the lookup found goes to each ``Scanner``: the write checker, the RPO's count, the
service levels, the chart's bins, the restore's accuracy. Each keeps only what it reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from drills.record.readback import ReadBack


@dataclass(frozen=True)
class Joined:
    """What the read-back holds for the operations of one chunk."""

    present: np.ndarray  # bool: the id is in the store
    same: np.ndarray  # bool: present with the value that was written


class Scanner(Protocol):
    """A measurement fed one chunk of operations at a time."""

    def add(self, ops: np.ndarray, joined: Joined | None) -> None: ...


def scan(chunks: Iterable[np.ndarray], readback: ReadBack | None,
         scanners: Sequence[Scanner]) -> np.ndarray | None:
    """Feed every chunk of operations (``OP`` rows) to ``scanners``.

    Returns which read-back rows belong to an operation of the history.
    """
    rows = readback.rows if readback is not None else None
    seen = np.zeros(len(rows), dtype=bool) if rows is not None else None
    ids = rows["id"] if rows is not None else None
    for ops in chunks:
        joined = None
        if rows is not None and ids is not None and seen is not None:
            where = np.searchsorted(ids, ops["id"])
            present = where < len(ids)
            present[present] = ids[where[present]] == ops["id"][present]
            same = present.copy()
            same[present] = rows["digest"][where[present]] == ops["digest"][present]
            seen[where[present]] = True
            joined = Joined(present, same)
        for scanner in scanners:
            scanner.add(ops, joined)
    return seen
