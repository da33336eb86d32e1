"""Redis persistence files: an RDB, an AOF, a Redis 7 multi-part AOF (its manifest).

``redis-check-rdb FILE`` reads every key and the trailing CRC64 checksum: a truncated RDB
ends in "Unexpected EOF". ``redis-check-aof FILE`` (an AOF, or the manifest of a multi-part
AOF, whose base and incremental files it checks in turn) parses every command and says
"is not valid" at a truncated one; it changes nothing without ``--fix``, which the drill
never passes.

An RDB newer than this host's redis-check-rdb understands ("Can't handle RDB format
version") could not be verified here: not a damaged file.
"""

from __future__ import annotations

import re

from drills.backup import BackupVerification
from drills.backup.content import tools
from drills.backup.content.formats import Format, Unit
from drills.errors import printable

_AGAIN = ("take it again, and check that the backup command copied it to the end (copy it "
          "after BGSAVE has finished, or with writes paused)")
_NEWER_RDB = re.compile(r"Can't handle RDB format version (\d+)")
_KEYS = re.compile(r"(\d+) keys read")


def check_rdb(unit: Unit, size: int, timeout_s: float) -> BackupVerification:
    command = f"redis-check-rdb {unit.name}"
    what = f"{unit.name} ({unit.format}, {size:,} bytes)"
    done = tools.attempt("redis-check-rdb", [str(unit.path)], command, what, timeout_s)
    if isinstance(done, BackupVerification):
        return done
    keys = _KEYS.search(done.output)
    if done.returncode == 0 and "RDB looks OK" in done.output:
        return BackupVerification(True, command, f"{what}: RDB looks OK, checksum included"
                                  f"{f'; {keys.group(1)} keys read' if keys else ''}")
    newer = _NEWER_RDB.search(done.output)
    if newer:
        return BackupVerification(
            None, command, f"{what}: could not verify its content, this "
            f"host's redis-check-rdb cannot read RDB version {newer.group(1)} "
            f"(written by a newer Redis). To check it: "
            f"{tools.INSTALL['redis-check-rdb']}")
    return BackupVerification(
        False, command, f"{what}: redis-check-rdb found it damaged or cut short "
        f"(exit {done.returncode}"
        f"{f', after {keys.group(1)} keys' if keys else ''}): "
        f"{_error_of(done)}. A restore from it would fail: {_AGAIN}")


def check_aof(unit: Unit, size: int, timeout_s: float) -> BackupVerification:
    """An AOF file, or a multi-part AOF through its manifest (``unit.path``)."""
    command = f"redis-check-aof {unit.name if unit.format is Format.REDIS_AOF else unit.path.name}"
    what = f"{unit.name} ({unit.format}, {size:,} bytes)"
    done = tools.attempt("redis-check-aof", [str(unit.path)], command, what, timeout_s)
    if isinstance(done, BackupVerification):
        return done
    lines = [line.strip() for line in done.output.splitlines() if line.strip()]
    invalid = [line for line in lines if "not valid" in line or "format error" in line]
    if done.returncode == 0 and not invalid and lines and "valid" in lines[-1]:
        return BackupVerification(True, command, f"{what}: {lines[-1]}")
    newer = _NEWER_RDB.search(done.output)
    if newer:  # the RDB preamble or base file of a newer Redis
        return BackupVerification(
            None, command, f"{what}: could not verify its content, this "
            f"host's redis-check-aof cannot read RDB version {newer.group(1)} "
            f"(written by a newer Redis). To check it: "
            f"{tools.INSTALL['redis-check-aof']}")
    return BackupVerification(
        False, command, f"{what}: redis-check-aof found it damaged or cut short "
        f"(exit {done.returncode}): {_error_of(done)}. A restore from it would "
        f"fail or stop early: {_AGAIN}")


def _error_of(done: tools.ToolRun) -> str:
    """The lines that say what is wrong, rather than the whole report."""
    wanted = [line.strip() for line in done.output.splitlines()
              if any(w in line for w in ("ERROR", "Unexpected", "not valid", "error",
                                         "Expected", "Wrong", "Bad", "Invalid", "Failed",
                                         "While doing", "Reading key", "Can't", "No such"))]
    if not wanted:
        return done.tail(400)
    return printable("; ".join(wanted).rstrip("."), 600)
