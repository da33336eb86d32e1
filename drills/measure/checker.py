"""The write checker: compare every recorded write with what the store holds afterwards.

Classes (docs/measurement.md rule 3):

- lost: acknowledged (``ok``) but absent: data loss
- recovered: outcome ``unknown`` and present (allowed)
- unexpected: present but never invoked, or present although its write ``fail``-ed
  (a checker or workload bug; must be zero)
- corrupted: present with a different value than was written (values are compared by
  their 64-bit digests)
- conflicting: present with a different value although the drill's own write of that id
  was refused: another writer holds the id (a row written outside the drill, or a
  duplicate-key refusal), not damaged storage

``WriteClasses`` is fed the history a chunk at a time (drills.measure.scan) and keeps
only the counts and the ids of each class; ``check_writes`` does it for a small history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drills.measure.ids import Ids, concat
from drills.measure.scan import Joined, scan
from drills.record.history.ops import FAIL, OK, UNKNOWN, Op, ops_table
from drills.record.readback import ReadBack

#: how many ids of each class summary.json lists (all of them are in ids.txt.gz)
IDS_LISTED = 20


@dataclass(frozen=True)
class WriteCheck:
    """The classification of every write of a drill."""

    invoked: int
    acked: int
    failed: int
    unknown: int
    lost: Ids  # in acknowledgement order
    recovered: Ids  # the others in id order
    unexpected: Ids
    corrupted: Ids
    #: when each lost write was acknowledged (monotonic), in the order of ``lost``
    lost_acks: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False,
                                  compare=False)
    conflicting: Ids = field(default_factory=Ids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "invoked": self.invoked,
            "acked": self.acked,
            "failed": self.failed,
            "unknown": self.unknown,
            "lost": len(self.lost),
            "recovered": len(self.recovered),
            "unexpected": len(self.unexpected),
            "corrupted": len(self.corrupted),
            "conflicting": len(self.conflicting),
            "lost_ids_first": list(self.lost[:IDS_LISTED]),
            "unexpected_ids_first": list(self.unexpected[:IDS_LISTED]),
            "corrupted_ids_first": list(self.corrupted[:IDS_LISTED]),
            "lost_id_ranges": self.lost.ranges_text(IDS_LISTED),
        }

    def classes(self) -> dict[str, Ids]:
        out = {"lost": self.lost, "recovered": self.recovered,
               "unexpected": self.unexpected, "corrupted": self.corrupted}
        if len(self.conflicting):  # only then: runs without one keep their ids files
            out["conflicting"] = self.conflicting
        return out


class WriteClasses:
    """Counts every write by outcome and keeps the ids of each class (a ``Scanner``)."""

    def __init__(self) -> None:
        self.counts = {OK: 0, FAIL: 0, UNKNOWN: 0}
        self._lost: list[np.ndarray] = []
        self._lost_acks: list[np.ndarray] = []
        self._recovered: list[np.ndarray] = []
        self._unexpected: list[np.ndarray] = []
        self._corrupted: list[np.ndarray] = []
        self._conflicting: list[np.ndarray] = []

    def add(self, ops: np.ndarray, joined: Joined | None) -> None:
        assert joined is not None, "the write check needs the read-back"
        outcome = ops["outcome"]
        for code in self.counts:
            self.counts[code] += int(np.count_nonzero(outcome == code))
        present, same = joined.present, joined.same
        lost = (outcome == OK) & ~present
        self._lost.append(ops["id"][lost])
        self._lost_acks.append(ops["complete"][lost])
        differs = present & ~same
        self._corrupted.append(ops["id"][differs & (outcome != FAIL)])
        self._conflicting.append(ops["id"][differs & (outcome == FAIL)])
        self._recovered.append(ops["id"][same & (outcome == UNKNOWN)])
        self._unexpected.append(ops["id"][same & (outcome == FAIL)])

    def finish(self, readback: ReadBack, seen: np.ndarray | None) -> WriteCheck:
        """The check, once every chunk was added: ids never invoked are unexpected too."""
        lost, acks = concat(self._lost), concat(self._lost_acks).astype(np.float64)
        order = np.lexsort((lost, np.nan_to_num(acks, nan=0.0)))
        never = readback.ids[~seen] if seen is not None and readback.rows is not None \
            else np.zeros(0, np.int64)
        return WriteCheck(
            invoked=sum(self.counts.values()),
            acked=self.counts[OK],
            failed=self.counts[FAIL],
            unknown=self.counts[UNKNOWN],
            lost=Ids(lost[order]),
            recovered=Ids(np.sort(concat(self._recovered))),
            unexpected=Ids(np.sort(np.concatenate([concat(self._unexpected), never]))),
            corrupted=Ids(np.sort(concat(self._corrupted))),
            lost_acks=acks[order],
            conflicting=Ids(np.sort(concat(self._conflicting))),
        )


def check_writes(ops: Sequence[Op], present: dict[int, str]) -> WriteCheck:
    """Classify ``ops`` against ``present`` (id -> value read back): small histories."""
    readback = ReadBack.from_values(present)
    classes = WriteClasses()
    seen = scan([ops_table([op for op in ops if op.kind == "write"])], readback, [classes])
    return classes.finish(readback, seen)
