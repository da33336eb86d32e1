"""The journal: a drill's saved record, from which every figure of the report is rebuilt.

One directory per scenario and run::

    journal.json    the timeline, the scenario's plan entry, runtime and environment
    history.bin     the workload's op history (drills.record.history); with several load
                    generators, one file each: history-w1.bin, history-w2.bin, ...
    probes.jsonl    the steady-state probe attempts
    readback.json   what the store held after recovery: its source, row count or error,
    readback.bin    and the rows: ids and value digests (drills.record.readback)
    ids.txt.gz      every id of each class of the write check, as ranges (the report)
    logs/           service logs

Runs saved by drills before 0.2 have history.jsonl and the values in readback.json;
they are still read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.errors import HistoryError
from drills.record.timeline import Timeline
from drills.redact import redact_tree, write_private_bytes

SCHEMA = 2  # 2: the probed service and the store are named apart (1: one "service")


@dataclass(frozen=True)
class ScenarioFiles:
    """Where one scenario's records live."""

    root: Path

    @property
    def journal(self) -> Path:
        return self.root / "journal.json"

    @property
    def history(self) -> Path:
        """The op history of the drill's own load generator."""
        return self.root / "history.bin"

    def worker_history(self, worker: int) -> Path:
        """The op history of load generator ``worker`` (1, 2, ...) of a distributed load."""
        return self.root / f"history-w{worker}.bin"

    def histories(self) -> list[Path]:
        """Every op history file of the scenario (a run before drills 0.2: history.jsonl)."""
        found = sorted(self.root.glob("history*.bin"))
        legacy = self.root / "history.jsonl"
        return found + ([legacy] if legacy.exists() else [])

    @property
    def probes(self) -> Path:
        return self.root / "probes.jsonl"

    @property
    def readback(self) -> Path:
        return self.root / "readback.json"

    @property
    def readback_rows(self) -> Path:
        return self.root / "readback.bin"

    @property
    def ids(self) -> Path:
        return self.root / "ids.txt.gz"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


@dataclass
class Journal:
    """The journal.json of one scenario run."""

    run_id: str
    scenario: Mapping[str, Any]  # ScenarioPlan.to_dict()
    probed_service: str | None  # where the steady-state probe ran: the RTO
    store_service: str | None  # whose writes were read back: the RPO
    runtime: str
    timeline: Timeline
    environment: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "scenario": dict(self.scenario),
            "services": {"probed": self.probed_service, "store": self.store_service},
            "runtime": self.runtime,
            "environment": self.environment,
            "events": self.timeline.to_list(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Journal:
        schema = raw.get("schema")
        if schema == 1:  # one service, probed and read back
            probed = store = raw.get("service")
        elif schema == SCHEMA:
            services = raw.get("services") or {}
            probed, store = services.get("probed"), services.get("store")
        else:
            raise HistoryError(f"journal schema {schema!r} is not one of 1, {SCHEMA}")
        return cls(
            run_id=str(raw["run_id"]),
            scenario=dict(raw["scenario"]),
            probed_service=None if probed in (None, "n/a") else str(probed),
            store_service=None if store in (None, "n/a") else str(store),
            runtime=str(raw["runtime"]),
            timeline=Timeline.from_list(list(raw["events"])),
            environment=dict(raw.get("environment", {})),
        )


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically, so a reader never sees half a file.

    The file is 0600 and URL credentials are redacted (drills.redact): no file drills
    writes holds a password in clear.
    """
    tmp = path.with_suffix(path.suffix + ".tmp")
    text = json.dumps(redact_tree(data), indent=1, sort_keys=False)
    write_private_bytes(tmp, text.encode("utf-8"))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise HistoryError(f"cannot read {path}: {exc}") from exc


def load_journal(files: ScenarioFiles) -> Journal:
    try:
        return Journal.from_dict(read_json(files.journal))
    except (KeyError, TypeError, ValueError) as exc:
        raise HistoryError(f"{files.journal}: malformed journal ({exc})") from exc
