"""The steady-state probe's record: one JSON line per attempt, in probes.jsonl."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from drills.errors import HistoryError
from drills.record.history.jsonl import json_lines


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
    for number, rec in json_lines(path):
        try:
            probes.append(
                ProbeAttempt(float(rec["m0"]), float(rec["w0"]), float(rec["m1"]),
                             float(rec["w1"]), bool(rec["ok"]), rec.get("err"))
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise HistoryError(f"{path}:{number}: malformed probe record {rec!r}") from exc
    probes.sort(key=lambda p: p.invoke_mono)
    return probes
