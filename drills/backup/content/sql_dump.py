r"""Plain SQL dumps of pg_dump and pg_dumpall, gzip-compressed or not.

Both write an end marker as their last comment: ``-- PostgreSQL database dump complete``
(pg_dump) and ``-- PostgreSQL database cluster dump complete`` (pg_dumpall). A script cut
short lacks it. After the marker only blank lines, comments and psql's ``\unrestrict``
(pg_dump 15.14 and later) may follow.

A gzip file is read to its end: every block decompressed and its checksum and length
checked, so a truncated or damaged stream fails here, before its end marker is looked for.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from drills.backup import BackupVerification
from drills.backup.content.formats import Format, Unit
from drills.backup.content.gzip_file import TAIL, broken, read_gzip
from drills.errors import printable

#: the end marker each header promises (by what the header names)
MARKERS = {b"cluster dump": b"-- PostgreSQL database cluster dump complete",
           b"dump": b"-- PostgreSQL database dump complete"}
_AGAIN = ("take it again, and check that the backup command wrote it to the end (disk space; "
          "a pipe whose failure the script ignored: `set -o pipefail`)")


def check(unit: Unit, size: int) -> BackupVerification:
    """Read the dump (decompressing it if gzip) and look for its end marker."""
    gz = unit.format is Format.PG_SQL_GZIP
    command = f"{'gunzip' if gz else 'read'} {unit.name} to its end marker"
    what = f"{unit.name} ({unit.format}, {size:,} bytes)"
    try:
        head, tail, plain = read_gzip(unit.path) if gz else _read_plain(unit.path, size)
    except (EOFError, OSError, zlib.error) as exc:
        if not gz or not broken(exc):
            return BackupVerification(None, command, f"{what}: could not be read: {printable(exc)}")
        return BackupVerification(
            False, command, f"{what}: the gzip stream is cut short or damaged "
            f"({printable(exc)}); a restore from it would fail: {_AGAIN}")
    marker = _marker(head)
    shown = marker.decode()
    inflated = f", {plain:,} bytes uncompressed, gzip stream intact" if gz else ""
    if _complete(tail, marker):
        return BackupVerification(True, command, f"{what}{inflated}: complete to its end marker "
                                  f"'{shown}'")
    last = tail.rstrip().rsplit(b"\n", 1)[-1][-120:].decode(errors="replace")
    return BackupVerification(False, command, f"{what}{inflated}: no end marker '{shown}' at its "
                              f"end (its last line: '{printable(last, 130)}'): the dump is cut "
                              f"short and a restore from it would stop there: {_AGAIN}")


def _marker(head: bytes) -> bytes:
    for named, marker in MARKERS.items():  # "cluster dump" first: it contains "dump"
        if head.startswith(b"--\n-- PostgreSQL database " + named + b"\n"):
            return marker
    return MARKERS[b"dump"]


def _complete(tail: bytes, marker: bytes) -> bool:
    at = tail.rfind(marker)
    if at < 0:
        return False
    after = tail[at + len(marker):].decode(errors="replace").splitlines()
    return all(not line.strip() or line.startswith("--") or line.startswith("\\unrestrict ")
               for line in after)


def _read_plain(path: Path, size: int) -> tuple[bytes, bytes, int]:
    with open(path, "rb") as f:
        head = f.read(256)
        f.seek(max(0, size - TAIL))
        return head, f.read(), size
