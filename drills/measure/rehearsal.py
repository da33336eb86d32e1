"""A backup job's restore rehearsal (``verify: restore``), judged from its timeline step.

Before the fault, the drill restores the backup it just took into a scratch PostgreSQL with
the plan's own restore procedure, runs there the plan's ``sql`` checks on the job's service,
and lists the scratch server's tables (drills.plan_drill.rehearsal). The step holds all of
it; this module turns it into one verdict row per rehearsal, ``backup.JOB.rehearsal``:

- fail (REHEARSAL_FAILED) when the procedure failed, a check failed there, or a table of the
  backup is missing or short in the scratch server;
- could not verify when the rehearsal could not run (no PostgreSQL binaries on this
  machine, the scratch server never started) or a check or the tables could not be read;
- pass otherwise.

A table is judged by the inventory taken right after the backup (drills.measure.tables).
Its rows are judged only when its count did not change while the backup ran (the count
just before the backup equals the one after it): rows written during the backup may or may
not be in it, by design of the method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.measure.findings import Finding
from drills.measure.tables import short_of
from drills.measure.verdict import TargetCheck, Verdict, fmt_s
from drills.record.timeline import Category, Step

TARGET = "restores into a scratch server; the plan's checks pass there"
RESOLUTION = "exact (row counts)"

Counts = Mapping[str, int | None]


def key_of(job: str) -> str:
    return f"backup.{job}.rehearsal"


def title_of(job: str) -> str:
    return f"backup {job} restore rehearsal"


@dataclass(frozen=True)
class TableComparison:
    """The backup's tables against the scratch server's, after the rehearsed restore."""

    total: int
    missing: tuple[str, ...]
    short: tuple[tuple[str, int, int], ...]  # table, rows at the backup, rows restored
    unjudged: tuple[str, ...]  # present; rows changed during the backup, or not counted

    @property
    def complete(self) -> int:
        return self.total - len(self.missing) - len(self.short)


def compare(at_backup: Counts, restored: Counts, before_backup: Counts | None = None
            ) -> TableComparison:
    """Every table of the backup present, with at least the rows it had (when judged)."""
    def existed(table: str) -> bool:  # a table created while the backup ran may be left out
        return before_backup is None or table in before_backup

    missing = tuple(t for t in at_backup if t not in restored and existed(t))
    judged = [t for t, n in at_backup.items() if n is not None and t in restored
              and (before_backup is None or before_backup.get(t) == n)]
    short = short_of(at_backup, judged, restored)
    unjudged = tuple(t for t in at_backup if t in restored and t not in judged)
    expected = [t for t in at_backup if existed(t) or t in restored]
    return TableComparison(len(expected), missing, short, unjudged)


@dataclass(frozen=True)
class Outcome:
    """What a rehearsal step amounts to: verdict, measured text, and why."""

    verdict: Verdict
    measured: str
    reason: str = ""
    restore_s: float | None = None


def _tables(data: Mapping[str, Any]) -> TableComparison | str:
    """The comparison, or why there is none."""
    at_backup = data.get("tables_at_backup")
    if not isinstance(at_backup, Mapping):
        return "the tables were not listed at the backup"
    restored = data.get("tables_restored")
    if not isinstance(restored, Mapping):
        return ("the scratch server's tables could not be listed: "
                f"{data.get('tables_error') or 'no record'}")
    before = data.get("tables_before_backup")
    return compare(at_backup, restored, before if isinstance(before, Mapping) else None)


def outcome(data: Mapping[str, Any]) -> Outcome:
    """Judge one rehearsal from what its step recorded."""
    if data.get("could_not_verify"):
        return Outcome(Verdict.COULD_NOT_VERIFY, "n/a", str(data["could_not_verify"]))
    procedure = data.get("procedure", "?")
    restore_s = data.get("restore_s")
    seconds = float(restore_s) if isinstance(restore_s, int | float) else None
    problems: list[str] = []
    unsure: list[str] = []
    if data.get("restored") is True:
        parts = [f"restored in {fmt_s(seconds or 0.0)}"]
    else:
        parts = ["restore failed" + (f" after {fmt_s(seconds)}" if seconds is not None else "")]
        problems.append(f"the restore procedure {procedure} failed: "
                        f"{data.get('procedure_error') or 'no reason recorded'}")
    checks: Sequence[Mapping[str, Any]] = data.get("checks") or ()
    passed = [c for c in checks if c.get("verdict") == str(Verdict.PASS)]
    parts.append(f"{len(passed)} of {len(checks)} checks pass" if checks else
                 f"no sql check of the plan reads {data.get('service', 'the service')}")
    for c in checks:
        detail = " ".join(str(c.get("detail")).split())  # one line: a query error has several
        if c.get("verdict") == str(Verdict.FAIL):
            problems.append(f"check {c.get('check')} failed there: {detail}")
        elif c.get("verdict") != str(Verdict.PASS):
            unsure.append(f"check {c.get('check')} could not run there: {detail}")
    tables = _tables(data)
    if isinstance(tables, str):
        unsure.append(tables)
    else:
        text = f"{tables.complete} of {tables.total} tables with their rows"
        if tables.unjudged:
            text += f" ({len(tables.unjudged)} written during the backup: rows not judged)"
        parts.append(text)
        if tables.missing:
            problems.append(f"missing in the scratch server: {', '.join(tables.missing)}")
        if tables.short:
            problems.append("short in the scratch server: " + ", ".join(
                f"{t} ({after} rows of {before})" for t, before, after in tables.short))
    measured = "; ".join(parts)
    if problems:
        return Outcome(Verdict.FAIL, measured, "; ".join(problems), seconds)
    if unsure:
        return Outcome(Verdict.COULD_NOT_VERIFY, measured, "; ".join(unsure), seconds)
    return Outcome(Verdict.PASS, measured, "", seconds)


def rehearsal_rows(steps: Sequence[Step], findings: list[Finding]) -> list[TargetCheck]:
    """One row per rehearsal on the timeline, ``backup.JOB.rehearsal``."""
    rows: list[TargetCheck] = []
    for step in steps:
        if step.category != Category.BACKUP or "rehearsal" not in step.data:
            continue
        job = str(step.data["rehearsal"])
        key, title = key_of(job), title_of(job)
        found = outcome(step.data) if step.end is not None else \
            Outcome(Verdict.COULD_NOT_VERIFY, "n/a", "the drill stopped during the rehearsal")
        if found.verdict == Verdict.FAIL:
            findings.append(Finding("REHEARSAL_FAILED", f"backup {job}: {found.reason}"))
        elif found.verdict == Verdict.COULD_NOT_VERIFY:
            findings.append(Finding("COULD_NOT_VERIFY", f"{title}: {found.reason}"))
        rows.append(TargetCheck(key, title, TARGET, found.measured, RESOLUTION, found.verdict,
                                found.reason, measured_value=found.restore_s))
    return rows
