"""PostgreSQL archive dumps (``pg_dump -Fc`` custom format, ``-Fd`` directory format).

Two reads by ``pg_restore``, the tool a restore would use: ``--list`` reads the table of
contents, ``-f /dev/null`` then reads and decompresses every data block, as a restore does,
writing the SQL nowhere. A dump cut short keeps its table of contents (it is written
first), so only the second read catches it.

A dump made by a newer pg_dump than this host's pg_restore cannot be read here: that is
"could not verify" with the fix, not a damaged dump.
"""

from __future__ import annotations

from pathlib import Path

from drills.backup import BackupVerification
from drills.backup.content import tools
from drills.backup.content.formats import Format, Unit, head_of

_AGAIN = ("take it again, and check that the backup command wrote it to the end (disk space; "
          "a pipe whose failure the script ignored: `set -o pipefail`)")


def check(unit: Unit, size: int, timeout_s: float) -> BackupVerification:
    """Both reads of ``unit`` (a custom-format file or a directory-format dump)."""
    where = str(unit.path)
    command = f"pg_restore --list {unit.name}; pg_restore -f /dev/null {unit.name}"
    what = f"{unit.name} ({unit.format}, {size:,} bytes)"
    listing = tools.attempt("pg_restore", ["--list", where], command, what, timeout_s)
    if isinstance(listing, BackupVerification):
        return listing
    if listing.returncode != 0:
        return _unreadable(unit, command, what, listing)
    entries = [line for line in listing.output.splitlines()
               if line.strip() and not line.startswith(";")
               and not line.startswith("pg_restore:")]
    full = tools.attempt("pg_restore", ["-f", "/dev/null", where], command, what, timeout_s)
    if isinstance(full, BackupVerification):
        return full
    if full.returncode != 0:
        return BackupVerification(False, command, f"{what}: its table of contents lists "
                                  f"{len(entries)} entries, but reading its data failed (exit "
                                  f"{full.returncode}): {full.tail()}. The dump is cut short or "
                                  f"damaged and a restore from it would fail: {_AGAIN}")
    data = sum(1 for line in entries if " TABLE DATA " in line)
    return BackupVerification(True, command, f"{what}: {len(entries)} entries in its table of "
                              f"contents ({data} of table data); every data block read back")


def _unreadable(unit: Unit, command: str, what: str, listing: tools.ToolRun) -> BackupVerification:
    version = _archive_version(unit)
    if "unsupported version" in listing.output and version is not None and version[0] == 1:
        return BackupVerification(
            None, command, f"{what}: could not verify its content, this "
            f"host's pg_restore cannot read archive version "
            f"{version[0]}.{version[1]} (made by a newer pg_dump): "
            f"{listing.tail(300)}. To check it: {tools.INSTALL['pg_restore']}")
    return BackupVerification(
        False, command, f"{what}: pg_restore cannot read its table of "
        f"contents (exit {listing.returncode}): {listing.tail()}. The dump is "
        f"damaged: {_AGAIN}")


def _archive_version(unit: Unit) -> tuple[int, int] | None:
    """The archive format version in the header (``PGDMP`` then major, minor)."""
    header = unit.path / "toc.dat" if unit.format is Format.PG_DIRECTORY else unit.path
    try:
        head = head_of(Path(header), 8)
    except OSError:
        return None
    return (head[5], head[6]) if len(head) >= 7 and head.startswith(b"PGDMP") else None
