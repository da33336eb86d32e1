"""The read-back: what the store held after recovery, as sorted ids and value digests.

``readback.bin`` holds one 16-byte row per write the store held, sorted by id: the id and
the 64-bit digest of its value (drills.record.history.format.digest). ``readback.json`` says
where it came from, how many rows, or why the store could not be read. Runs saved before
drills 0.2 kept the values themselves in ``readback.json``; they are still read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drills.errors import HistoryError
from drills.record.history.format import digest

ROW = np.dtype([("id", "<i8"), ("digest", "<u8")])
FORMAT = 2
_BATCH = 1 << 16


def write_rows(path: Path, rows: Iterable[tuple[int, str]]) -> int:
    """Write ``rows`` (id, value), in any order, to ``path`` sorted by id; returns the count.

    Rows stream to disk in batches; the sort at the end holds 16 bytes a row in memory.
    An id read twice is an error: the store's ledger has no such duplicates.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        count = _write_sorted(tmp, rows)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _write_sorted(tmp: Path, rows: Iterable[tuple[int, str]]) -> int:
    count = 0
    ordered = True
    last = None
    with open(tmp, "wb") as out:
        batch: list[tuple[int, int]] = []
        for op_id, value in rows:
            batch.append((int(op_id), digest(value)))
            if len(batch) >= _BATCH:
                ordered, last = _flush(out, batch, ordered, last)
                count += len(batch)
                batch = []
        ordered, last = _flush(out, batch, ordered, last)
        count += len(batch)
    if not ordered:
        table = np.fromfile(tmp, dtype=ROW)
        table.sort(order="id", kind="stable")
        table.tofile(tmp)
        del table
    if count > 1:
        ids = np.memmap(tmp, dtype=ROW, mode="r")["id"]
        twice = np.flatnonzero(np.diff(ids) == 0)
        if len(twice):
            raise HistoryError(f"the store held id {int(ids[twice[0]])} twice")
        del ids
    return count


def _flush(out: Any, batch: list[tuple[int, int]], ordered: bool,
           last: int | None) -> tuple[bool, int | None]:
    if not batch:
        return ordered, last
    table = np.array(batch, dtype=ROW)
    if ordered:
        ids = table["id"]
        ordered = bool((np.diff(ids) > 0).all()) and (last is None or int(ids[0]) > last)
    table.tofile(out)
    return ordered, int(table["id"][-1])


@dataclass(frozen=True)
class ReadBack:
    """What the store held after recovery (``rows`` sorted by id), or why it is not known."""

    rows: np.ndarray | None
    source: str = ""
    error: str | None = None

    @classmethod
    def from_values(cls, values: Mapping[int, str] | None, source: str = "",
                    error: str | None = None) -> ReadBack:
        """From id -> value (tests, and runs saved before drills 0.2)."""
        if values is None:
            return cls(None, source, error)
        rows = np.array(sorted((int(k), digest(str(v))) for k, v in values.items()), dtype=ROW)
        return cls(rows.reshape(-1), source, error)

    @property
    def ids(self) -> np.ndarray:
        assert self.rows is not None
        return self.rows["id"]



def readback_meta(source: str, rows: int | None, file_name: str | None,
                  error: str | None = None) -> dict[str, Any]:
    """The readback.json of ``rows`` rows in ``file_name``, or of a read that failed."""
    return {"format": FORMAT, "source": source, "error": error, "rows": rows,
            "file": file_name}


def load_readback(meta_path: Path) -> ReadBack:
    """Read readback.json and the rows it names (a memory map: the page cache holds them)."""
    from drills.record.journal import read_json

    raw = read_json(meta_path)
    try:
        if raw.get("format") != FORMAT:  # drills before 0.2: the values themselves
            values = raw.get("values")
            return ReadBack.from_values(
                None if values is None else {int(k): str(v) for k, v in values.items()},
                str(raw.get("source", "")), raw.get("error"))
        if raw.get("file") is None or raw.get("rows") is None:
            return ReadBack(None, str(raw.get("source", "")), raw.get("error"))
        path = meta_path.with_name(str(raw["file"]))
        expected = int(raw["rows"])
    except (AttributeError, TypeError, ValueError) as exc:
        raise HistoryError(f"{meta_path}: malformed read-back ({exc})") from exc
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise HistoryError(f"cannot read {path}: {exc}") from exc
    if size != expected * ROW.itemsize:
        raise HistoryError(f"{path}: {size} bytes, but {meta_path.name} says {expected} rows "
                           f"of {ROW.itemsize} bytes")
    rows = np.memmap(path, dtype=ROW, mode="r") if expected else np.zeros(0, ROW)
    if expected > 1 and not (np.diff(rows["id"]) > 0).all():
        raise HistoryError(f"{path}: the ids are not sorted and unique")
    return ReadBack(rows, str(raw.get("source", "")), raw.get("error"))
