"""The run store: one SQLite file with every run of every plan drilled into a reports directory.

SQLite because it is embedded (nothing to run), one file to keep between CI jobs, and
readable with any SQL client. Rows are written once, when a run ends; nothing is updated.
Each scenario run keeps the digest of how it was drilled (``settings_digest``: its fault,
parameters, load, probe, dataset), so that a report can say when a baseline mixes runs
drilled differently (a longer freeze, a bigger dataset).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.errors import UsageError

FILE_NAME = "drills-runs.sqlite"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    plan_name TEXT NOT NULL,
    plan_sha256 TEXT,
    started_wall REAL NOT NULL,
    finished_wall REAL,
    runtime TEXT,
    verdict TEXT NOT NULL,
    operator TEXT,
    run_dir TEXT
);
CREATE TABLE IF NOT EXISTS scenario_runs (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    scenario TEXT NOT NULL,
    runtime TEXT,
    verdict TEXT NOT NULL,
    rto_s REAL,
    rpo_s REAL,
    lost_writes INTEGER,
    acked_writes INTEGER,
    rto_target_s REAL,
    rpo_target_s REAL,
    fault_wall REAL,
    settings_sha256 TEXT,
    PRIMARY KEY (run_id, scenario)
);
CREATE INDEX IF NOT EXISTS scenario_runs_by_name ON scenario_runs (scenario);
"""


@dataclass(frozen=True)
class Point:
    """One scenario in one earlier run: what a trend chart plots and a baseline reads."""

    run_id: str
    started_wall: float
    runtime: str
    verdict: str
    rto_s: float | None
    rpo_s: float | None
    lost_writes: int | None
    rto_target_s: float | None
    rpo_target_s: float | None
    settings: str | None = None  # settings_digest of the scenario as drilled

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "started_wall": self.started_wall,
                "runtime": self.runtime, "verdict": self.verdict, "rto_s": self.rto_s,
                "rpo_s": self.rpo_s, "lost_writes": self.lost_writes,
                "rto_target_s": self.rto_target_s, "rpo_target_s": self.rpo_target_s,
                "settings": self.settings}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Point:
        def num(key: str) -> float | None:
            value = raw.get(key)
            return None if value is None else float(value)

        lost = raw.get("lost_writes")
        settings = raw.get("settings")
        return cls(str(raw["run_id"]), float(raw["started_wall"]), str(raw.get("runtime", "")),
                   str(raw["verdict"]), num("rto_s"), num("rpo_s"),
                   None if lost is None else int(lost), num("rto_target_s"),
                   num("rpo_target_s"), None if settings is None else str(settings))


#: what a scenario's plan entry says that does not change how it is drilled
_NOT_SETTINGS = ("targets", "regression", "controls", "description")


def settings_digest(scenario: Mapping[str, Any]) -> str:
    """sha256 of a scenario's plan entry (``ScenarioPlan.to_dict``) without its targets."""
    kept = {k: v for k, v in scenario.items() if k not in _NOT_SETTINGS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


class RunStore:
    """The runs database at ``path``; each call opens it, so runs may share it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=30)) as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version not in (0, SCHEMA_VERSION):
                    raise UsageError(f"{self.path}: a runs database of schema {version}, "
                                     f"newer than this drills ({SCHEMA_VERSION}); use a newer "
                                     "drills or another --runs-db file")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                with db:  # one transaction
                    yield db
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{self.path}: cannot use the runs database ({exc}); give "
                             "another file with --runs-db") from exc

    def check(self, run_id: str) -> None:
        """Open (and create) the database before anything starts.

        A bad --runs-db, or a run id the database already holds, stops the run here.
        """
        with self._db() as db:
            if db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
                raise UsageError(f"{self.path}: already holds a run {run_id}; a run id is used "
                                 "once (give another --run-id)")

    def record(self, summary: Mapping[str, Any], operator: str | None, run_dir: Path,
               settings: Mapping[str, str]) -> None:
        """Add a finished run from its summary.json document, once: a run id is unique.

        ``settings`` maps each scenario to its ``settings_digest``.
        """
        with self._db() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (summary["run_id"], (summary.get("plan") or {}).get("name") or "",
                 (summary.get("plan") or {}).get("sha256"), summary["started_wall"],
                 summary.get("finished_wall"), summary.get("runtime"), summary["verdict"],
                 operator, str(run_dir)))
            for s in summary["scenarios"]:
                db.execute(
                    "INSERT INTO scenario_runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (summary["run_id"], s["name"], s.get("runtime"), s["verdict"],
                     s.get("rto_s"), s.get("rpo_s"), s.get("lost_writes"),
                     s.get("acked_writes"), _target(s, "rto_s"), _target(s, "rpo_s"),
                     s.get("fault_at"), settings.get(s["name"])))

    def series(self, plan_name: str, scenario: str, *, runtime: str | None = None,
               passing_only: bool = False, before_wall: float | None = None,
               limit: int = 20) -> list[Point]:
        """The scenario's runs of this plan, oldest first: at most the ``limit`` latest."""
        if not self.path.exists():
            return []
        query = ("SELECT s.run_id, r.started_wall, s.runtime, s.verdict, s.rto_s, s.rpo_s, "
                 "s.lost_writes, s.rto_target_s, s.rpo_target_s, s.settings_sha256 "
                 "FROM scenario_runs s "
                 "JOIN runs r USING (run_id) WHERE r.plan_name = ? AND s.scenario = ?")
        args: list[Any] = [plan_name, scenario]
        if runtime is not None:
            query += " AND s.runtime = ?"
            args.append(runtime)
        if passing_only:
            query += " AND s.verdict = 'pass'"
        if before_wall is not None:
            query += " AND r.started_wall < ?"
            args.append(before_wall)
        query += " ORDER BY r.started_wall DESC LIMIT ?"
        args.append(limit)
        with self._db() as db:
            rows = db.execute(query, args).fetchall()
        return [Point(*row) for row in reversed(rows)]


def _target(scenario: Mapping[str, Any], key: str) -> float | None:
    for row in scenario.get("targets") or []:
        if row.get("key") == key and row.get("target_value") is not None:
            return float(row["target_value"])
    return None
