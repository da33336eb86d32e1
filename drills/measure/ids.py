"""Sets of op ids as the checker keeps them: numpy arrays, shown as ranges.

A drill that loses a server can lose millions of writes; their ids are kept as one int64
array (8 bytes each) and shown as integer interval sets, as Jepsen's checker prints them:
``1..4 7 9..12``, exact and short.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np


class Ids(Sequence[int]):
    """An ordered, immutable sequence of op ids backed by an int64 array."""

    __slots__ = ("_ids",)

    def __init__(self, ids: np.ndarray | Sequence[int] = ()) -> None:
        array = np.asarray(ids, dtype=np.int64).reshape(-1)
        array.flags.writeable = False
        self._ids = array

    @property
    def array(self) -> np.ndarray:
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[int, ...]: ...

    def __getitem__(self, index: int | slice) -> int | tuple[int, ...]:
        if isinstance(index, slice):
            return tuple(self._ids[index].tolist())
        return int(self._ids[index])

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids.tolist())

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and bool((self._ids == value).any())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ids):
            return bool(np.array_equal(self._ids, other._ids))
        if isinstance(other, (tuple, list)):
            return len(other) == len(self) and tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Ids({self.ranges_text(10)})"

    def ranges(self) -> np.ndarray:
        """The ids as sorted, disjoint [first, last] ranges: an (n, 2) array."""
        ids = np.unique(self._ids)
        if not len(ids):
            return np.zeros((0, 2), dtype=np.int64)
        breaks = np.flatnonzero(np.diff(ids) != 1)
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks, [len(ids) - 1]])
        return np.stack([ids[starts], ids[ends]], axis=1)

    def ranges_text(self, limit: int | None = 20) -> str:
        """``1..4 7 9..12``, the first ``limit`` ranges, then how many more there are."""
        ranges = self.ranges()
        shown = ranges if limit is None else ranges[:limit]
        text = " ".join(f"{a}" if a == b else f"{a}..{b}" for a, b in shown.tolist())
        if limit is not None and len(ranges) > limit:
            text += f" … and {len(ranges) - limit} more ranges"
        return text or "none"

    def to_list(self) -> list[Any]:
        return list(self._ids.tolist())


def concat(parts: list[np.ndarray]) -> np.ndarray:
    """Chunks of ids (or times) joined; an empty int64 array when there are none."""
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
