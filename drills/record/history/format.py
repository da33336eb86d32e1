"""The op history on disk: fixed 40-byte records, appended as operations happen.

Each record is one ``write(2)`` to a file opened with O_APPEND, so a writer that dies
loses at most the operation in its hands, and a reader never sees half a record except
at the very end (a short write, a crash of the machine), where it is skipped::

    offset size  field
    0      1     type     H header, I invoke, O ok, F fail, U unknown (sent, no answer)
    1      1     kind     the operation: 0 write. Header: the format version
    2      2     aux      header: the worker number (0: the drill's own load generator)
    4      4     err      a completion's error, numbered in the ``.errors`` file (0: none)
    8      8     id       the operation id. Header: the writer's process id
    16     8     mono     CLOCK_MONOTONIC, seconds
    24     8     wall     time.time(), seconds
    32     8     digest   invoke: 64-bit BLAKE2b of the value written. Header: boot id

The header's clocks and boot id let a reader put the times of a worker on another host
on the drill's clock (drills.record.history.clocks). Error texts are kept once each in
``<file>.errors`` (JSON lines ``{"n": 3, "text": "..."}``), written before the first
record that uses them. The JSON-lines format of drills before 0.2 (``history.jsonl``) is
still read, so older runs can be reported and verified.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drills.errors import HistoryError
from drills.record.history.jsonl import json_lines
from drills.record.history.outcome import Outcome

VERSION = 1
RECORD = np.dtype([("type", "u1"), ("kind", "u1"), ("aux", "<u2"), ("err", "<u4"),
                   ("id", "<i8"), ("mono", "<f8"), ("wall", "<f8"), ("digest", "<u8")])
_PACK = struct.Struct("<BBHIqddQ")
assert RECORD.itemsize == _PACK.size == 40

HEADER, INVOKE = ord("H"), ord("I")
#: the record type of each completion, and back
COMPLETION = {Outcome.OK: ord("O"), Outcome.FAIL: ord("F"), Outcome.UNKNOWN: ord("U")}
OUTCOME_OF = {code: outcome for outcome, code in COMPLETION.items()}
KINDS = ("write",)
#: the error number of an operation that never completed, and of texts past the cap
NO_COMPLETION, TOO_MANY_ERRORS = 0xFFFFFFFF, 0xFFFFFFFE
MAX_ERROR_TEXTS = 4096
CHUNK_RECORDS = 1 << 18  # 10 MB of records read at a time


def digest(value: str) -> int:
    """The fixed-width digest of a written value, as the checker compares them."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little")


def boot_id() -> int:
    """The boot id of this host (its monotonic clock's identity), as 64 bits; 0 if unknown."""
    try:
        text = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return int(text.replace("-", "")[:16], 16)
    except (OSError, ValueError):
        return 0


def errors_path(path: Path) -> Path:
    return path.with_name(path.name + ".errors")


class HistoryWriter:
    """Appends history records with one ``write(2)`` each."""

    def __init__(self, path: Path, worker: int = 0) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._errors: dict[str, int] = {}
        self._errors_fd = -1
        if os.fstat(self._fd).st_size == 0:
            os.write(self._fd, _PACK.pack(HEADER, VERSION, worker, 0, os.getpid(),
                                          time.monotonic(), time.time(), boot_id()))

    def invoke(self, op_id: int, kind: str, value: str, mono: float, wall: float) -> None:
        os.write(self._fd, _PACK.pack(INVOKE, KINDS.index(kind), 0, 0, op_id, mono, wall,
                                      digest(value)))

    def complete(
        self, op_id: int, outcome: Outcome, mono: float, wall: float, error: str | None = None
    ) -> None:
        err = 0 if error is None else self._error_number(error[:300])
        os.write(self._fd, _PACK.pack(COMPLETION[outcome], 0, 0, err, op_id, mono, wall, 0))

    def _error_number(self, text: str) -> int:
        number = self._errors.get(text)
        if number is not None:
            return number
        if len(self._errors) >= MAX_ERROR_TEXTS:
            return TOO_MANY_ERRORS
        number = len(self._errors) + 1
        if self._errors_fd < 0:
            self._errors_fd = os.open(errors_path(self.path),
                                      os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.write(self._errors_fd, (json.dumps({"n": number, "text": text}) + "\n").encode())
        self._errors[text] = number
        return number

    def close(self) -> None:
        for fd in (self._fd, self._errors_fd):
            if fd >= 0:
                os.close(fd)
        self._fd = self._errors_fd = -1


@dataclass(frozen=True)
class HistoryFile:
    """One history file and what its header says about its writer."""

    path: Path
    worker: int = 0
    pid: int = 0
    boot: int = 0  # 0: unknown (a file of the JSON-lines format, written by the drill)
    opened_mono: float = 0.0
    opened_wall: float = 0.0
    legacy: bool = False
    errors: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def open(cls, path: Path) -> HistoryFile:
        """Read the header (and the error texts) of ``path``."""
        if path.suffix == ".jsonl":
            return cls(path, legacy=True)
        try:
            with open(path, "rb") as f:
                head = f.read(RECORD.itemsize)
        except OSError as exc:
            raise HistoryError(f"cannot read {path}: {exc}") from exc
        if len(head) < RECORD.itemsize:
            # the writer died before its header landed: no operation was recorded
            return cls(path)
        kind, version, worker, _, pid, mono, wall, boot = _PACK.unpack(head)
        if kind != HEADER or version != VERSION:
            raise HistoryError(f"{path}: not an op history of format {VERSION} "
                               f"(first record type {kind!r}, version {version})")
        return cls(path, worker, pid, boot, mono, wall, errors=_read_errors(path))

    def error_text(self, number: int) -> str | None:
        if number == 0:
            return None
        if number == NO_COMPLETION:
            return "no completion recorded"
        if number == TOO_MANY_ERRORS:
            return f"(one of more than {MAX_ERROR_TEXTS} distinct errors; text not kept)"
        return self.errors.get(number, f"error {number} (its text is missing)")

    def records(self, chunk: int = CHUNK_RECORDS) -> Iterator[np.ndarray]:
        """The records after the header, ``chunk`` at a time; a torn tail is left out."""
        if self.legacy:
            yield from _legacy_records(self.path, self.errors)
            return
        size = _size(self.path)
        whole = size // RECORD.itemsize
        with open(self.path, "rb") as f:
            f.seek(RECORD.itemsize)
            done = 1
            while done < whole:
                records = np.fromfile(f, dtype=RECORD, count=min(chunk, whole - done))
                if not len(records):
                    break
                zero = records["type"] == 0
                if zero.any():
                    # zeros at the end are a crash's unwritten tail; anywhere else, damage
                    first = int(np.argmax(zero))
                    if done + len(records) < whole or not zero[first:].all():
                        raise HistoryError(f"{self.path}: record {done + first} is empty and "
                                           "records follow it: the file is damaged")
                    yield records[:first]
                    return
                done += len(records)
                yield records


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise HistoryError(f"cannot read {path}: {exc}") from exc


def _read_errors(path: Path) -> dict[int, str]:
    texts: dict[int, str] = {}
    source = errors_path(path)
    if not source.exists():
        return texts
    for number, rec in json_lines(source):
        try:
            texts[int(rec["n"])] = str(rec["text"])
        except (KeyError, TypeError, ValueError) as exc:
            raise HistoryError(f"{source}:{number}: malformed error record {rec!r}") from exc
    return texts


def _legacy_records(path: Path, errors: dict[int, str]) -> Iterator[np.ndarray]:
    """A JSON-lines history (drills before 0.2) as records.

    Invokes come in id order, then the completions, so that each invoke comes first.
    """
    invokes: list[tuple[int, float, float, int]] = []
    seen: set[int] = set()
    done: list[tuple[int, int, float, float, int]] = []
    numbers: dict[str, int] = {}
    for number, rec in json_lines(path):
        try:
            op_id = int(rec["id"])
            if rec["e"] == "invoke":
                if op_id in seen:
                    raise HistoryError(f"{path}:{number}: op id {op_id} invoked twice")
                seen.add(op_id)
                invokes.append((op_id, float(rec["m"]), float(rec["w"]), digest(str(rec["v"]))))
                if rec.get("k", "write") not in KINDS:
                    raise ValueError(f"unknown kind {rec.get('k')!r}")
            else:
                err = rec.get("err")
                code = 0
                if err is not None:
                    code = numbers.setdefault(str(err), len(numbers) + 1)
                    errors[code] = str(err)
                done.append((COMPLETION[Outcome(rec["e"])], op_id, float(rec["m"]),
                             float(rec["w"]), code))
        except (KeyError, ValueError, TypeError) as exc:
            raise HistoryError(f"{path}:{number}: malformed record {rec!r}") from exc
    invokes.sort()
    records = np.zeros(len(invokes) + len(done), dtype=RECORD)
    head = records[: len(invokes)]
    head["type"] = INVOKE
    if invokes:
        ids, mono, wall, digests = zip(*invokes, strict=True)
        head["id"], head["mono"], head["wall"] = ids, mono, wall
        head["digest"] = np.array(digests, dtype=np.uint64)
    tail = records[len(invokes):]
    if done:
        types, ids, mono, wall, codes = zip(*done, strict=True)
        tail["type"], tail["id"], tail["mono"], tail["wall"], tail["err"] = \
            types, ids, mono, wall, codes
    yield records
