"""The op history: every operation the workload made, with its outcome, Jepsen style.

On disk it is JSON lines, two per operation, appended as they happen so that nothing is
lost if a process dies (a write to the page cache survives the writer's death)::

    {"e":"invoke","id":17,"k":"write","v":"9f2c...","m":1234.5678,"w":1763700000.1}
    {"e":"ok","id":17,"m":1234.5691,"w":1763700000.1}

An ``invoke`` with no completion is an ``unknown`` outcome: the write may or may not
have happened. The steady-state probe's attempts are kept in a file of their own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from drills.errors import HistoryError


class Outcome(StrEnum):
    """What became of an operation (DESIGN.md, measurement rule 2)."""

    OK = "ok"  # acknowledged
    FAIL = "fail"  # certainly not applied: refused before it was sent
    UNKNOWN = "unknown"  # sent, no answer: it may or may not have happened


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of the workload, from invoke to completion."""

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


class HistoryWriter:
    """Appends history records with one ``write(2)`` each; safe across ``fork``-free use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def invoke(self, op_id: int, kind: str, value: str, mono: float, wall: float) -> None:
        # Values are hex strings made by the workload, so no JSON escaping is needed.
        os.write(
            self._fd,
            f'{{"e":"invoke","id":{op_id},"k":"{kind}","v":"{value}","m":{mono!r},"w":{wall!r}}}\n'
            .encode(),
        )

    def complete(
        self, op_id: int, outcome: Outcome, mono: float, wall: float, error: str | None = None
    ) -> None:
        err = "" if error is None else f',"err":{json.dumps(error[:300])}'
        os.write(
            self._fd,
            f'{{"e":"{outcome}","id":{op_id},"m":{mono!r},"w":{wall!r}{err}}}\n'.encode(),
        )

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield parsed lines; a torn last line (its writer died mid-write) is skipped."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as exc:
        raise HistoryError(f"cannot read {path}: {exc}") from exc
    last = len(lines) - 1
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            if number - 1 == last:
                return  # torn tail: the process died while writing it
            raise HistoryError(f"{path}:{number}: not a JSON record ({exc})") from exc


def read_history(path: Path) -> list[Op]:
    """Read an op history file into operations, in invoke order."""
    invokes: dict[int, dict[str, Any]] = {}
    completions: dict[int, dict[str, Any]] = {}
    for number, rec in _json_lines(path):
        try:
            op_id = int(rec["id"])
            if rec["e"] == "invoke":
                if op_id in invokes:
                    raise HistoryError(f"{path}:{number}: op id {op_id} invoked twice")
                invokes[op_id] = rec
            else:
                Outcome(rec["e"])
                completions[op_id] = rec
        except (KeyError, ValueError, TypeError) as exc:
            raise HistoryError(f"{path}:{number}: malformed record {rec!r}") from exc
    orphans = completions.keys() - invokes.keys()
    if orphans:
        raise HistoryError(f"{path}: completions without an invoke: {sorted(orphans)[:5]}")
    ops = []
    for op_id, inv in invokes.items():
        done = completions.get(op_id)
        ops.append(
            Op(
                id=op_id,
                kind=str(inv["k"]),
                value=str(inv["v"]),
                invoke_mono=float(inv["m"]),
                invoke_wall=float(inv["w"]),
                outcome=Outcome(done["e"]) if done else Outcome.UNKNOWN,
                complete_mono=float(done["m"]) if done else None,
                complete_wall=float(done["w"]) if done else None,
                error=(done.get("err") if done else "no completion recorded"),
            )
        )
    ops.sort(key=lambda o: (o.invoke_mono, o.id))
    return ops


@dataclass(frozen=True, slots=True)
class ProbeAttempt:
    """One steady-state probe: a write acknowledged and read back, or why not."""

    invoke_mono: float
    invoke_wall: float
    complete_mono: float
    complete_wall: float
    ok: bool
    error: str | None = None

    @property
    def latency_s(self) -> float:
        return self.complete_mono - self.invoke_mono

    def to_json(self) -> str:
        return json.dumps(
            {"m0": self.invoke_mono, "w0": self.invoke_wall, "m1": self.complete_mono,
             "w1": self.complete_wall, "ok": self.ok, "err": self.error}
        )


def read_probes(path: Path) -> list[ProbeAttempt]:
    """Read the probe record, in invoke order."""
    probes = []
    for number, rec in _json_lines(path):
        try:
            probes.append(
                ProbeAttempt(float(rec["m0"]), float(rec["w0"]), float(rec["m1"]),
                             float(rec["w1"]), bool(rec["ok"]), rec.get("err"))
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise HistoryError(f"{path}:{number}: malformed probe record {rec!r}") from exc
    probes.sort(key=lambda p: p.invoke_mono)
    return probes
