"""A team's backup verified by what it holds, not by being a non-empty file.

The backup job runs the team's own command; what it made is recognised by its first bytes
and read to its end by the tool a restore would use:

- PostgreSQL custom-format dump (``PGDMP``), directory-format dump (``toc.dat``):
  ``pg_restore --list`` and ``pg_restore -f /dev/null`` (every data block), postgres_archive;
- plain SQL dump of pg_dump or pg_dumpall, gzip-compressed or not: read (and
  decompressed) to its end marker, sql_dump;
- Redis RDB (``REDIS``): ``redis-check-rdb``; AOF, or a Redis 7 multi-part AOF through its
  manifest: ``redis-check-aof``, redis_files;
- any other gzip file: its stream read to the end (cut short is a failure), gzip_file.

Anything else is "made, N bytes; content judged by the restore": the verification's ``ok``
is None, which is "could not verify" (docs/measurement.md rule 8), never a pass. So is a
check whose tool is missing (the message names it and how to install it) or too old for the
file. A directory of several backups passes only when each of them does.
"""

from __future__ import annotations

from pathlib import Path

from drills.backup import BackupVerification, size_of
from drills.backup.content import gzip_file, postgres_archive, redis_files, sql_dump
from drills.backup.content.formats import Format, Unit, units_of
from drills.errors import printable

#: what a backup whose format drills does not check is: made, and no more
JUDGED_BY_RESTORE = "content judged by the restore"
#: the formats checked, for the message about one that is not
CHECKED = ("a pg_dump custom, directory or plain SQL dump (gzip or not), a pg_dumpall script, "
           "a Redis RDB or AOF")
_SHOWN = 8  # units whose verdict a directory's detail spells out


def verify_content(backup: Path, timeout_s: float = 600.0) -> BackupVerification:
    """Check ``backup`` (a file, or a directory of files) by its content."""
    try:
        units = units_of(backup)
    except OSError as exc:
        return BackupVerification(None, "file format check", f"{backup.name}: could not be read to "
                                  f"tell its format: {printable(exc)}")
    results = [(unit, check_unit(unit, timeout_s)) for unit in units]
    if not results:
        return BackupVerification(
            None, "file format check", f"{backup.name}: no file in it to check")
    if len(results) == 1:
        return results[0][1]
    return combined(results)


def check_unit(unit: Unit, timeout_s: float) -> BackupVerification:
    """One unit of a backup, by its format."""
    try:
        folder = unit.format is Format.REDIS_AOF_MULTIPART
        size = size_of(unit.path.parent if folder else unit.path)
    except OSError as exc:
        return BackupVerification(None, "file format check", f"{unit.name}: could not be read: "
                                  f"{printable(exc)}")
    match unit.format:
        case Format.PG_CUSTOM | Format.PG_DIRECTORY:
            return postgres_archive.check(unit, size, timeout_s)
        case Format.PG_SQL | Format.PG_SQL_GZIP:
            return sql_dump.check(unit, size)
        case Format.REDIS_RDB:
            return redis_files.check_rdb(unit, size, timeout_s)
        case Format.REDIS_AOF | Format.REDIS_AOF_MULTIPART:
            return redis_files.check_aof(unit, size, timeout_s)
        case Format.GZIP:
            return gzip_file.check(unit, size, JUDGED_BY_RESTORE)
    return BackupVerification(None, "file format check", f"{unit.name}: made, {size:,} bytes; "
                              f"{JUDGED_BY_RESTORE} (not a format drills checks: {CHECKED})")


def combined(results: list[tuple[Unit, BackupVerification]]) -> BackupVerification:
    """Several units: any failure fails, else any unverified is could not verify."""
    failed = [v for _, v in results if v.ok is False]
    unsure = [v for _, v in results if v.ok is None]
    passed = [v for _, v in results if v.ok is True]
    ok = False if failed else (None if unsure else True)
    shown = [*failed, *unsure, *passed]  # what decides the verdict first
    more = len(shown) - _SHOWN
    detail = (f"{len(results)} parts checked: {len(passed)} verified, {len(failed)} damaged, "
              f"{len(unsure)} not verified. " + " | ".join(v.detail for v in shown[:_SHOWN])
              + (f" | and {more} more" if more > 0 else ""))
    tools = "; ".join(dict.fromkeys(v.tool for v in shown))
    return BackupVerification(ok, tools if len(tools) <= 400 else tools[:397] + "...", detail)
