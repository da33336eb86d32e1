"""The write checker: compare every recorded write with what the store holds afterwards.

Classes (DESIGN.md, measurement rule 3):

- lost: acknowledged (``ok``) but absent: data loss
- recovered: outcome ``unknown`` and present (allowed)
- unexpected: present but never invoked, or present although its write ``fail``-ed
  (a checker or workload bug; must be zero)
- corrupted: present with a different value than was written
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.history import Op, Outcome


@dataclass(frozen=True)
class WriteCheck:
    """The classification of every write of a drill."""

    invoked: int
    acked: int
    failed: int
    unknown: int
    lost: tuple[int, ...]  # ids, in acknowledgement order
    recovered: tuple[int, ...]
    unexpected: tuple[int, ...]
    corrupted: tuple[int, ...]

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
            "lost_ids_first": list(self.lost[:20]),
            "unexpected_ids_first": list(self.unexpected[:20]),
            "corrupted_ids_first": list(self.corrupted[:20]),
        }


def check_writes(ops: Sequence[Op], present: Mapping[int, str]) -> WriteCheck:
    """Classify every write against ``present`` (id -> value read back after recovery)."""
    writes = [op for op in ops if op.kind == "write"]
    by_id = {op.id: op for op in writes}
    lost: list[Op] = []
    recovered: list[int] = []
    corrupted: list[int] = []
    unexpected: list[int] = []
    for op in writes:
        value = present.get(op.id)
        if value is None:
            if op.outcome == Outcome.OK:
                lost.append(op)
            continue
        if value != op.value:
            corrupted.append(op.id)
        elif op.outcome == Outcome.UNKNOWN:
            recovered.append(op.id)
        elif op.outcome == Outcome.FAIL:
            unexpected.append(op.id)
    unexpected.extend(i for i in present if i not in by_id)
    lost.sort(key=lambda o: (o.complete_mono or 0.0, o.id))
    count = {o: sum(1 for op in writes if op.outcome == o) for o in Outcome}
    return WriteCheck(
        invoked=len(writes),
        acked=count[Outcome.OK],
        failed=count[Outcome.FAIL],
        unknown=count[Outcome.UNKNOWN],
        lost=tuple(op.id for op in lost),
        recovered=tuple(sorted(recovered)),
        unexpected=tuple(sorted(unexpected)),
        corrupted=tuple(sorted(corrupted)),
    )
