"""gzip files, read to their end: every block decompressed, its CRC and length checked.

A truncated stream ends before its end-of-stream marker and a damaged one fails its CRC:
either is a backup a restore could not read to its end. An intact stream of something
drills does not check says only that the file was made whole.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from drills.backup import BackupVerification
from drills.backup.content.formats import Unit
from drills.errors import printable

#: how much of the end of the uncompressed data is kept, for an end marker
TAIL = 64 * 1024


def read_gzip(path: Path) -> tuple[bytes, bytes, int]:
    """Decompress all of ``path``: its first bytes, its last ``TAIL``, its length.

    EOFError when the stream is cut short, OSError (BadGzipFile) or zlib.error when damaged.
    """
    head, tail, plain = b"", b"", 0
    with gzip.open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if len(head) < 256:
                head += chunk[: 256 - len(head)]
            tail = (tail + chunk)[-TAIL:]
            plain += len(chunk)
    return head, tail, plain


def broken(exc: BaseException) -> bool:
    """Whether reading failed because the stream is bad (not because the file is unreadable)."""
    return not isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError)


def check(unit: Unit, size: int, judged_by: str) -> BackupVerification:
    """A gzip file of a format drills does not check: its stream, and no more."""
    command = f"gzip -t {unit.name}"
    what = f"{unit.name} ({unit.format}, {size:,} bytes)"
    try:
        _, _, plain = read_gzip(unit.path)
    except (EOFError, OSError, zlib.error) as exc:
        if not broken(exc):
            return BackupVerification(None, command, f"{what}: could not be read: {printable(exc)}")
        return BackupVerification(
            False, command, f"{what}: the gzip stream is cut short or damaged "
            f"({printable(exc)}); a restore from it would fail: take it again, "
            "and check that the backup command wrote it to the end")
    return BackupVerification(
        None, command, f"{what}: made, {size:,} bytes, its gzip stream intact "
        f"({plain:,} bytes uncompressed); {judged_by} (what it holds is not a "
        "format drills checks)")
