"""What a restore brought back, table by table, with no check written by the team.

The drill inventories each backed-up PostgreSQL database (its user tables and their exact
row counts; the drill's own ledger tables left out, the ledger judges them) three times:
right after the backup, just before the fault, and once the service answers again. A table
present at the backup and absent after recovery is missing; a table whose row count did
not change between the backup and the fault, and that has fewer rows after recovery, came
back short. Either fails the row "restored tables complete" (RESTORE_TABLES_INCOMPLETE):
a dump that silently leaves out a table (``pg_dump -T invoice_line``) restores without an
error, and only this comparison sees it. Tables that changed after the backup are listed,
not judged: rows written after the backup are lost by design of the method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from drills.measure.findings import Finding
from drills.measure.verdict import TargetCheck, Verdict
from drills.record.timeline import Event, EventKind

INVENTORY_AT_BACKUP = "at the backup"
INVENTORY_BEFORE_FAULT = "before the fault"
INVENTORY_AFTER_RECOVERY = "after recovery"

KEY, TITLE = "restore.tables", "restored tables complete"
TARGET = "every table of the backup present; unchanged tables with all their rows"


@dataclass(frozen=True)
class TableCheck:
    """The comparison for one service."""

    service: str
    at_backup: Mapping[str, int | None]
    missing: tuple[str, ...]
    short: tuple[tuple[str, int, int], ...]  # table, rows at the backup, rows after
    unchanged: tuple[str, ...]  # same count at the backup and before the fault
    changed: tuple[str, ...]  # written after the backup: not judged
    uncounted: tuple[str, ...]  # not counted within the timeout


def latest_inventory(events: Sequence[Event], service: str, when: str) -> Event | None:
    """The last inventory of ``service`` taken ``when`` (INVENTORY_AT_BACKUP, ...)."""
    found = [e for e in events if e.kind == EventKind.INVENTORY
             and e.data.get("service") == service and e.data.get("when") == when]
    return found[-1] if found else None


def short_of(at_backup: Mapping[str, int | None], judged: Sequence[str],
             after: Mapping[str, int | None]) -> tuple[tuple[str, int, int], ...]:
    """The judged tables with fewer rows after than at the backup: (table, before, after)."""
    return tuple((t, int(at_backup[t] or 0), int(after[t] or 0)) for t in judged
                 if after.get(t) is not None and int(after[t] or 0) < int(at_backup[t] or 0))


def compare(at_backup: Mapping[str, int | None], before_fault: Mapping[str, int | None],
            after: Mapping[str, int | None], service: str) -> TableCheck:
    missing = tuple(t for t in at_backup if t not in after)
    unchanged = tuple(t for t, n in at_backup.items()
                      if n is not None and before_fault.get(t) == n)
    short = short_of(at_backup, unchanged, after)
    uncounted = tuple(t for t in at_backup
                      if at_backup[t] is None or (t in after and after[t] is None))
    changed = tuple(t for t in at_backup if t not in unchanged and t not in uncounted)
    return TableCheck(service, at_backup, missing, short, unchanged, changed, uncounted)


def table_rows(events: Sequence[Event], findings: list[Finding]) -> list[TargetCheck]:
    """One row per service whose tables were inventoried at a backup."""
    rows: list[TargetCheck] = []
    services = list(dict.fromkeys(str(e.data.get("service")) for e in events
                                  if e.kind == EventKind.INVENTORY
                                  and e.data.get("when") == INVENTORY_AT_BACKUP))
    for service in services:
        key = KEY if len(services) == 1 else f"{KEY}.{service}"
        title = TITLE if len(services) == 1 else f"{TITLE} ({service})"
        backup = latest_inventory(events, service, INVENTORY_AT_BACKUP)
        before = latest_inventory(events, service, INVENTORY_BEFORE_FAULT)
        after = latest_inventory(events, service, INVENTORY_AFTER_RECOVERY)
        why = _unusable(backup, before, after)
        if why or backup is None or after is None:
            reason = why or "no inventory"
            findings.append(Finding("COULD_NOT_VERIFY", f"{title}: {reason}"))
            rows.append(TargetCheck(key, title, TARGET, "n/a", "", Verdict.COULD_NOT_VERIFY,
                                    reason))
            continue
        check = compare(backup.data["tables"], before.data.get("tables") or {}
                        if before is not None else {}, after.data["tables"], service)
        rows.append(_row(key, title, check, findings))
    return rows


def _unusable(backup: Event | None, before: Event | None, after: Event | None) -> str:
    if backup is None or "tables" not in backup.data:
        error = backup.data.get("error") if backup is not None else "no record"
        return f"the tables could not be listed at the backup: {error}"
    if after is None:
        return "the service never answered again, so its tables were not listed after recovery"
    if "tables" not in after.data:
        return f"the tables could not be listed after recovery: {after.data.get('error')}"
    if before is not None and "tables" not in before.data:
        return f"the tables could not be listed before the fault: {before.data.get('error')}"
    return ""


def _row(key: str, title: str, check: TableCheck, findings: list[Finding]) -> TargetCheck:
    measured = (f"{len(check.at_backup) - len(check.missing)} of {len(check.at_backup)} tables "
                f"present; {len(check.unchanged) - len(check.short)} of "
                f"{len(check.unchanged)} unchanged since the backup with all their rows")
    if check.changed:
        measured += f"; {len(check.changed)} written after the backup, not judged"
    if check.uncounted:
        measured += f"; {len(check.uncounted)} not counted in time"
    problems = []
    if check.missing:
        problems.append(f"missing after the restore: {', '.join(check.missing)}")
    if check.short:
        problems.append("short after the restore: " + ", ".join(
            f"{t} ({after} rows of {before})" for t, before, after in check.short))
    if not problems:
        return TargetCheck(key, title, TARGET, measured, "exact (row counts)", Verdict.PASS)
    reason = f"{check.service}: " + "; ".join(problems)
    findings.append(Finding("RESTORE_TABLES_INCOMPLETE", reason))
    return TargetCheck(key, title, TARGET, measured, "exact (row counts)", Verdict.FAIL, reason)
