"""What a backup file holds, told by its first bytes (never by its name alone).

A backup job may make one file or a directory of them. A directory is split into units,
each checked on its own: a PostgreSQL directory-format dump (a directory with ``toc.dat``),
a Redis multi-part AOF (a directory with its ``.manifest``), and every other file by its
content. Symbolic links are skipped, as the backup job's file listing skips them.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from drills.errors import printable


class Format(StrEnum):
    PG_CUSTOM = "PostgreSQL custom-format dump"
    PG_DIRECTORY = "PostgreSQL directory-format dump"
    PG_SQL = "plain SQL dump"
    PG_SQL_GZIP = "gzip-compressed plain SQL dump"
    GZIP = "gzip file"  # of something else: its stream is checked, not what it holds
    REDIS_RDB = "Redis RDB"
    REDIS_AOF = "Redis AOF"
    REDIS_AOF_MULTIPART = "Redis multi-part AOF"
    UNKNOWN = "file of a format drills does not check"


@dataclass(frozen=True)
class Unit:
    """One thing to check: its format, the path its tool is given, what it is called."""

    format: Format
    path: Path  # the file; the directory of a directory-format dump; an AOF's manifest
    name: str  # for people: relative to the backup, safe to print

    def __post_init__(self) -> None:  # a name is the team's command's: never a control code
        object.__setattr__(self, "name", printable(self.name))


#: how pg_dump (``dump``) and pg_dumpall (``cluster dump``) begin a plain SQL script
SQL_HEADERS = (b"--\n-- PostgreSQL database dump\n", b"--\n-- PostgreSQL database cluster dump\n")
_GZIP_MAGIC = b"\x1f\x8b"
_RDB = re.compile(rb"REDIS\d{4}")
_AOF_COMMAND = re.compile(rb"\*\d+\r\n\$\d+\r\n")
_MANIFEST_LINE = re.compile(rb"file \S.* seq \d+ type [bhi]\b")
_HEAD = 64


def head_of(path: Path, count: int = _HEAD) -> bytes:
    with open(path, "rb") as f:
        return f.read(count)


def gzip_head(path: Path, count: int = _HEAD) -> bytes:
    """The first bytes of what a gzip file holds (fewer if it is damaged that early)."""
    try:
        with gzip.open(path, "rb") as f:
            return f.read(count)
    except (OSError, EOFError, zlib.error):
        return b""


def is_manifest(path: Path) -> bool:
    """A Redis 7 AOF manifest: lines ``file appendonly.aof.1.base.rdb seq 1 type b``."""
    if not path.name.endswith(".manifest"):
        return False
    return bool(_MANIFEST_LINE.match(head_of(path, 256)))


def format_of(path: Path) -> Format:
    """The format of one file, from its first bytes."""
    head = head_of(path)
    if head.startswith(b"PGDMP"):
        return Format.PG_DIRECTORY if path.name == "toc.dat" else Format.PG_CUSTOM
    if head.startswith(SQL_HEADERS):
        return Format.PG_SQL
    if head.startswith(_GZIP_MAGIC):
        return Format.PG_SQL_GZIP if gzip_head(path).startswith(SQL_HEADERS) else Format.GZIP
    if _RDB.match(head):  # an AOF may begin with an RDB preamble: its name tells
        return Format.REDIS_AOF if path.name.endswith(".aof") else Format.REDIS_RDB
    if _AOF_COMMAND.match(head):
        return Format.REDIS_AOF
    if is_manifest(path):
        return Format.REDIS_AOF_MULTIPART
    return Format.UNKNOWN


def units_of(backup: Path) -> list[Unit]:
    """What to check in a backup: one file, or each unit of a directory, in name order."""
    if not backup.is_dir():
        found = format_of(backup)
        if found is Format.PG_DIRECTORY:  # the table of contents alone: its directory
            return [Unit(found, backup.parent, backup.name)]
        return [Unit(found, backup, backup.name)]
    units: list[Unit] = []
    for top, dirs, files in os.walk(backup):  # symbolic links to directories: not followed
        here = Path(top)
        dirs.sort()
        name = str(here.relative_to(backup)) if here != backup else backup.name
        if "toc.dat" in files and format_of(here / "toc.dat") is Format.PG_DIRECTORY:
            units.append(Unit(Format.PG_DIRECTORY, here, name))
            dirs.clear()  # its data files belong to it
            continue
        manifests = sorted(f for f in files if is_manifest(here / f))
        if manifests:  # the manifest names the base and incremental files beside it
            units.append(Unit(Format.REDIS_AOF_MULTIPART, here / manifests[0], name))
            dirs.clear()
            continue
        for file in sorted(files):
            path = here / file
            if not path.is_symlink():
                units.append(Unit(format_of(path), path, str(path.relative_to(backup))))
    return units
