"""Shared memory a run's dead PostgreSQL servers left behind: found, proven the run's, removed.

A PostgreSQL server that dies by SIGKILL leaves, until the machine restarts:

- a System V segment (its 56-byte header), whose key and id are on line 7 of the data
  directory's ``postmaster.pid`` (``key shmid``, LOCK_FILE_LINE_SHMEM_KEY);
- its dynamic shared memory, files ``/dev/shm/PostgreSQL.<handle>``: the control segment,
  whose handle the System V header holds, and every segment the control segment lists.

A restart in the same data directory removes them itself; a server killed for good (at the
end of a drill, or before its data directory is lost or emptied) does not. The local
runtime removes them after such a server is gone, and ``drill clean`` after a crashed run.

Only what is proven to be the run's own goes. A segment is the run's when all of this holds:

- its ``postmaster.pid`` lies in the run's working directory and names, on its first line,
  a server process the run recorded (``processes.jsonl``), which is gone;
- the segment with the id on line 7 still has that key, was created by that very process
  (``cpid``) and nobody is attached to it (``nattch`` 0);
- its header says so too: PostgreSQL's magic number, that creator pid, and the device and
  inode of that very data directory;
- the files are the control segment that header names and the segments that control
  segment lists, regular files owned by the segment's owner.

Anything short of that is kept, and said why.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import stat
import struct
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from drills.stack.ownership import process_start_ticks, process_state
from drills.stack.workdir import PROCESSES_FILE

log = logging.getLogger(__name__)

LOCK_FILE = "postmaster.pid"
SYSV_TABLE = Path("/proc/sysvipc/shm")
DSM_DIR = Path("/dev/shm")
DSM_PREFIX = "PostgreSQL."

#: PGShmemHeader (src/include/storage/pg_shmem.h): magic, creatorPID, totalsize,
#: freeoffset, dsm_control, index, device, inode
_HEADER = struct.Struct("@iiNNIPLL")
_HEADER_MAGIC = 679834894
#: dsm_control_header (src/backend/storage/ipc/dsm.c): magic, nitems, maxitems, then the
#: items, each starting with its handle and reference count; 24 bytes each before
#: PostgreSQL 14, 40 since
_CONTROL = struct.Struct("@III")
_CONTROL_ITEMS_AT = 16
_CONTROL_MAGIC = 0x9A503D32
_ITEM = struct.Struct("@II")
_ITEM_SIZES = (24, 40)
_SHM_RDONLY = 0o10000
_IPC_RMID = 0
_MAX_LOCK_FILE = 4096
_MAX_CONTROL = 16 << 20
#: how long a segment still attached is looked at again: a killed server's children exit
#: within milliseconds of it
_SETTLE_S = 2.0


@dataclass(frozen=True)
class Segment:
    """A row of /proc/sysvipc/shm."""

    key: int
    shmid: int
    size: int
    cpid: int
    nattch: int
    uid: int


@dataclass(frozen=True)
class Header:
    """The fields of PostgreSQL's System V header that prove whose it is."""

    magic: int
    creator_pid: int
    dsm_control: int
    device: int
    inode: int


@dataclass(frozen=True)
class Leftover:
    """What one dead server left, proven the run's: remove() takes it away."""

    lock_file: Path
    server: str
    segment: Segment
    files: tuple[Path, ...]

    def describe(self) -> str:
        names = ", ".join(str(f) for f in self.files) or "no file in /dev/shm"
        return (f"System V segment {self.segment.shmid} (key {self.segment.key}) and {names}, "
                f"left by {self.server} (pid {self.segment.cpid}, gone; "
                f"{self.lock_file})")


def parse_sysv_table(text: str) -> dict[int, Segment]:
    """The segments of /proc/sysvipc/shm, by id."""
    lines = text.splitlines()
    if not lines:
        return {}
    columns = lines[0].split()
    wanted = ("key", "shmid", "size", "cpid", "nattch", "uid")
    if not all(c in columns for c in wanted):
        return {}
    found = {}
    for line in lines[1:]:
        fields = line.split()
        if len(fields) < len(columns):
            continue
        try:
            row = {c: int(fields[columns.index(c)]) for c in wanted}
        except ValueError:
            continue
        found[row["shmid"]] = Segment(**row)
    return found


def parse_lock_file(text: str) -> tuple[int, int, int] | None:
    """(postmaster pid, key, shmid) from postmaster.pid; None without a System V segment."""
    lines = text.splitlines()
    if len(lines) < 7:
        return None
    fields = lines[6].split()
    try:
        pid = int(lines[0].strip())
        key, shmid = int(fields[0]), int(fields[1])
    except (ValueError, IndexError):
        return None
    return (pid, key, shmid) if pid > 1 and shmid >= 0 else None


def parse_header(data: bytes) -> Header | None:
    if len(data) < _HEADER.size:
        return None
    magic, creator, _total, _free, control, _index, device, inode = \
        _HEADER.unpack_from(data)
    return Header(magic, creator, control, device, inode)


def control_handles(data: bytes) -> list[int] | None:
    """The handles a DSM control segment lists as in use; None if it is not one."""
    if len(data) < _CONTROL_ITEMS_AT:
        return None
    magic, nitems, maxitems = _CONTROL.unpack_from(data)
    if magic != _CONTROL_MAGIC or maxitems == 0 or nitems > maxitems:
        return None
    size, rest = divmod(len(data) - _CONTROL_ITEMS_AT, maxitems)
    if rest or size not in _ITEM_SIZES:
        return None
    handles = []
    for i in range(nitems):
        handle, refcnt = _ITEM.unpack_from(data, _CONTROL_ITEMS_AT + i * size)
        if refcnt > 0:  # 0: a free slot
            handles.append(handle)
    return handles


def recorded_servers(workdir: Path) -> dict[int, tuple[str, int]]:
    """Every server process the run recorded: its pid -> (its name, its start ticks)."""
    try:
        fd = os.open(workdir / PROCESSES_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as f:
        text = f.read(1 << 20).decode(errors="replace")
    found = {}
    for line in text.splitlines():
        try:
            rec = json.loads(line)
            if rec.get("kind") == "procedure":  # a team's command, not a server
                continue
            found[int(rec["pid"])] = (str(rec["name"]), int(rec["start"]))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def _gone(pid: int, start: int) -> bool:
    return process_start_ticks(pid) != start or process_state(pid) == "Z"


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
    libc.shmdt.argtypes = (ctypes.c_void_p,)
    libc.shmctl.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
    return libc


def read_header(shmid: int) -> Header | None:
    """The header of System V segment ``shmid``, attached read-only for the read."""
    libc = _libc()
    address = libc.shmat(shmid, None, _SHM_RDONLY)
    if address is None or address == ctypes.c_void_p(-1).value:
        return None
    try:
        return parse_header(ctypes.string_at(address, _HEADER.size))
    finally:
        libc.shmdt(address)


def _read_file(path: Path, limit: int) -> tuple[int, bytes] | None:
    """(owner uid, content) of a regular file, never through a link; None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        return info.st_uid, f.read(limit)


def _owned_file(path: Path, uid: int) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == uid


def lock_files(root: Path) -> Iterator[Path]:
    """Every postmaster.pid under ``root``, never through a link."""
    for top, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        if LOCK_FILE in files:
            yield Path(top) / LOCK_FILE


class Attached(str):
    """Why a segment is kept: processes are still attached (they may be exiting)."""


def examine(lock_file: Path, servers: Mapping[int, tuple[str, int]],
            table: Mapping[int, Segment]) -> Leftover | str | None:
    """What the server of ``lock_file`` left, proven ours; or why it is kept; None: nothing."""
    text = _read_file(lock_file, _MAX_LOCK_FILE)
    parsed = parse_lock_file(text[1].decode(errors="replace")) if text is not None else None
    if text is None or parsed is None:
        return None  # a server starting or stopping, or no System V segment: nothing to do
    owner, (pid, key, shmid) = text[0], parsed
    if pid not in servers:
        return f"kept what {lock_file} names: pid {pid} is not a server this run started"
    name, start = servers[pid]
    segment = table.get(shmid)
    if not _gone(pid, start) or segment is None:
        return None  # it still runs (its memory is in use), or nothing is left
    if segment.key != key or segment.cpid != pid or segment.uid != owner:
        return None  # the id now belongs to another segment
    if segment.nattch:
        return Attached(f"kept System V segment {shmid} of {name}: {segment.nattch} "
                        "process(es) still attached (a backend outliving its server?)")
    header = read_header(shmid)
    data_dir = lock_file.parent.stat()
    if header is None or header.magic != _HEADER_MAGIC or header.creator_pid != pid or \
            (header.device, header.inode) != (data_dir.st_dev, data_dir.st_ino):
        return (f"kept System V segment {shmid}: its header does not name {name}'s data "
                f"directory {lock_file.parent}")
    return Leftover(lock_file, name, segment, dsm_files(header.dsm_control, segment.uid))


def dsm_files(control_handle: int, uid: int) -> tuple[Path, ...]:
    """The control segment ``control_handle`` and the segments it lists, files of ``uid``."""
    if not control_handle:
        return ()
    control = DSM_DIR / f"{DSM_PREFIX}{control_handle}"
    read = _read_file(control, _MAX_CONTROL)
    if read is None or read[0] != uid:
        return ()
    listed = [DSM_DIR / f"{DSM_PREFIX}{h}" for h in control_handles(read[1]) or []
              if h != control_handle]
    return (*(p for p in listed if _owned_file(p, uid)), control)


def remove(leftover: Leftover) -> list[str]:
    """Take a leftover away; what could not be removed, in words (empty: all went)."""
    problems = []
    for path in leftover.files:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            problems.append(f"could not remove {path}: {exc.strerror}")
    seg = leftover.segment
    now = parse_sysv_table(_read_table()).get(seg.shmid)
    unchanged = now is not None and (now.key, now.cpid, now.nattch) == (seg.key, seg.cpid, 0)
    if unchanged and _libc().shmctl(seg.shmid, _IPC_RMID, None) != 0:
        problems.append(f"could not remove System V segment {seg.shmid}: "
                        f"{os.strerror(ctypes.get_errno())}")
    return problems


def _read_table() -> str:
    try:
        return SYSV_TABLE.read_text()
    except OSError:
        return ""


def find(workdir: Path, under: Path | None = None,
         settle_s: float = _SETTLE_S) -> tuple[list[Leftover], list[str]]:
    """The leftovers of the run of ``workdir`` (below ``under``, default all of it).

    A killed server's children die a few milliseconds after it: a segment they are still
    attached to is looked at again for up to ``settle_s``.
    """
    deadline = time.monotonic() + settle_s
    while True:
        found, kept = _find_once(workdir, under)
        if not any(isinstance(k, Attached) for k in kept) or time.monotonic() >= deadline:
            return found, [str(k) for k in kept]
        time.sleep(0.05)


def _find_once(workdir: Path, under: Path | None) -> tuple[list[Leftover], list[str]]:
    servers = recorded_servers(workdir)
    table = parse_sysv_table(_read_table())
    found: list[Leftover] = []
    kept: list[str] = []
    if not servers or not table:
        return found, kept
    for lock_file in lock_files(under or workdir):
        try:
            seen = examine(lock_file, servers, table)
        except OSError as exc:
            seen = f"kept what {lock_file} names: unreadable ({exc.strerror})"
        if isinstance(seen, Leftover):
            found.append(seen)
        elif seen:
            kept.append(seen)
    return found, kept


def release(workdir: Path, under: Path | None = None) -> list[str]:
    """Remove what the run's dead servers left; returns the problems (logged too).

    Never raises: it runs in teardowns and before a fault's own work, which must go on.
    """
    try:
        found, kept = find(workdir, under)
    except Exception as exc:  # a clean-up that fails is said, not raised
        log.warning("could not look for shared memory left in %s: %s", workdir, exc)
        return [f"could not look for shared memory left in {workdir}: {exc}"]
    problems = []
    for line in kept:
        log.info("%s", line)
    for leftover in found:
        failed = remove(leftover)
        problems += failed
        if not failed:
            log.info("removed %s", leftover.describe())
    for line in problems:
        log.warning("%s", line)
    return problems
