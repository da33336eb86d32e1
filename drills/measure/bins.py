"""The op history in fixed time bins, for the report's chart: rates and p99 latency.

Acknowledged writes count in the bin of their acknowledgement, failed and unknown ones in
the bin of their answer (or of their invoke, when none came). The p99 of each bin comes
from a histogram of latencies in buckets 3 % wide, capped at the slowest write of the
bin: within 3 % of the exact figure, in memory that does not grow with the writes. Bins
are 100 ms wide, wider for long drills so that a chart never has more than ``MAX_BINS``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drills.measure.scan import Joined
from drills.record.history.ops import OK

BIN_S = 0.1
MAX_BINS = 3000
_WIDTHS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
_RATIO = 1.03  # each latency bucket is 3 % wider than the one before
_BUCKETS = 640  # from 1 µs to about 160 s
_LOW_MS = 0.001


def bin_width(span_s: float) -> float:
    """The narrowest width of ``_WIDTHS`` that covers ``span_s`` in ``MAX_BINS`` bins."""
    return next((w for w in _WIDTHS if span_s / w <= MAX_BINS), _WIDTHS[-1])


@dataclass(frozen=True)
class Bins:
    """Op history in fixed bins; ``start_s`` is each bin's left edge, relative to ``t0``.

    ``t0`` is on the monotonic clock: the fault's start, or the load's when no fault was
    injected.
    """

    t0: float
    width_s: float
    start_s: tuple[float, ...]
    acked_per_s: tuple[float, ...]
    bad_per_s: tuple[float, ...]  # failed + unknown
    p99_ms: tuple[float | None, ...]  # of acknowledged ops completing in the bin
    operations: int = 0


class BinsScan:
    """Counts writes per bin and their latencies per bucket (a ``Scanner``)."""

    def __init__(self, t0: float, width_s: float = BIN_S,
                 window: tuple[float, float] | None = None) -> None:
        """Bins of ``width_s`` from ``t0``.

        With ``window`` (monotonic), only the ops inside it: a finer look at the fault of a
        long drill.
        """
        self.t0, self.width, self.window = t0, width_s, window
        self.low = 0  # the bin index of row 0 of the arrays
        self.acked = np.zeros(0, np.int64)
        self.bad = np.zeros(0, np.int64)
        self.slowest = np.zeros(0, np.float64)
        self.buckets = np.zeros((0, _BUCKETS), np.uint32)
        self.operations = 0

    def _rows(self, index: np.ndarray) -> np.ndarray:
        """Row numbers of bin ``index``, growing the arrays to hold them."""
        if not len(self.acked):
            self.low = int(index.min())
        low = min(self.low, int(index.min()))
        high = max(self.low + len(self.acked), int(index.max()) + 1)
        before, after = self.low - low, high - (self.low + len(self.acked))
        if before or after:
            self.acked = np.pad(self.acked, (before, after))
            self.bad = np.pad(self.bad, (before, after))
            self.slowest = np.pad(self.slowest, (before, after))
            self.buckets = np.pad(self.buckets, ((before, after), (0, 0)))
            self.low = low
        return index - self.low

    def add(self, ops: np.ndarray, joined: Joined | None) -> None:
        if not len(ops):
            return
        complete = ops["complete"]
        answered = ~np.isnan(complete)
        at = np.where(answered, complete, ops["invoke"])
        if self.window is not None:
            inside = (at >= self.window[0]) & (at < self.window[1])
            ops, complete, answered, at = ops[inside], complete[inside], answered[inside], \
                at[inside]
            if not len(ops):
                return
        acked = (ops["outcome"] == OK) & answered
        self.operations += len(ops)
        index = np.floor((at - self.t0) / self.width).astype(np.int64)
        rows = self._rows(index)
        np.add.at(self.acked, rows[acked], 1)
        np.add.at(self.bad, rows[~acked], 1)
        latency_ms = (complete[acked] - ops["invoke"][acked]) * 1000
        np.maximum.at(self.slowest, rows[acked], latency_ms)
        bucket = np.clip(np.ceil(np.log(np.maximum(latency_ms, _LOW_MS) / _LOW_MS)
                                 / math.log(_RATIO)), 0, _BUCKETS - 1).astype(np.int64)
        np.add.at(self.buckets, (rows[acked], bucket), 1)

    def finish(self) -> Bins:
        used = np.flatnonzero((self.acked + self.bad) > 0)
        if not len(used):
            return Bins(self.t0, self.width, (), (), (), (), self.operations)
        first, last = int(used[0]), int(used[-1]) + 1
        p99: list[float | None] = []
        for row in range(first, last):
            counts = self.buckets[row]
            total = int(counts.sum())
            if not total:
                p99.append(None)
                continue
            rank = max(1, math.ceil(0.99 * total))
            bucket = int(np.searchsorted(np.cumsum(counts), rank))
            p99.append(min(_LOW_MS * _RATIO ** bucket, float(self.slowest[row])))
        return Bins(
            t0=self.t0,
            width_s=self.width,
            start_s=tuple((self.low + i) * self.width for i in range(first, last)),
            acked_per_s=tuple((self.acked[first:last] / self.width).tolist()),
            bad_per_s=tuple((self.bad[first:last] / self.width).tolist()),
            p99_ms=tuple(p99),
            operations=self.operations,
        )
