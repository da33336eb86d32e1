"""What a procedure started, found again: for its end, and for ``drill clean`` after a crash.

A procedure runs as the leader of its own process group and session. Every process it
starts inherits a mark in its environment (``DRILLS_PROCEDURE_MARK``: a random value per
procedure run, recorded with the leader's pid and start time in the run's
``processes.jsonl``). A process is the procedure's when it started no earlier than the
leader and

- it is the leader itself (same pid and start time), or below it in the process tree;
- or it is in the leader's process group or session while the leader is gone or is
  still the same process (a pid is not reused while a group or session holds it);
- or its environment carries the mark: a child that called ``setsid`` and was re-parented
  to init after the drill died is still found this way.

Nothing else is touched: a process of another user cannot be read, and is not ours.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MARK_VARIABLE = "DRILLS_PROCEDURE_MARK"
_DEATH_WAIT_S = 5.0


@dataclass(frozen=True)
class ProcStat:
    pid: int
    state: str
    ppid: int
    pgid: int
    sid: int
    start: int


def stat(pid: int) -> ProcStat | None:
    """Fields of /proc/PID/stat; None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return ProcStat(pid, fields[0], int(fields[1]), int(fields[2]), int(fields[3]),
                        int(fields[19]))
    except (IndexError, ValueError):
        return None


def _all() -> Iterator[ProcStat]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = stat(int(entry.name))
            if found is not None:
                yield found


def _carries(pid: int, mark: bytes) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return mark in environ.split(b"\0")


def tied(leader: int, start: int, mark: str | None) -> list[ProcStat]:
    """The live processes of the procedure whose leader was (``leader``, ``start``)."""
    me = os.getpid()
    now = stat(leader)
    leader_same = now is not None and now.start == start
    # the group and session are the procedure's only if the leader is the same or gone
    by_group = leader_same or now is None
    wanted = f"{MARK_VARIABLE}={mark}".encode() if mark else None
    processes = [p for p in _all() if p.pid not in (me, 1) and p.start >= start
                 and p.state != "Z"]
    found: dict[int, ProcStat] = {}
    for p in processes:
        if ((p.pid == leader and leader_same)
                or (by_group and leader in (p.pgid, p.sid))
                or (wanted is not None and _carries(p.pid, wanted))):
            found[p.pid] = p
    children: dict[int, list[ProcStat]] = {}
    for p in processes:
        children.setdefault(p.ppid, []).append(p)
    todo = list(found)
    while todo:  # and everything below them
        for child in children.get(todo.pop(), []):
            if child.pid not in found:
                found[child.pid] = child
                todo.append(child.pid)
    return sorted(found.values(), key=lambda p: p.pid)


def end(processes: list[ProcStat], wait_s: float = _DEATH_WAIT_S) -> tuple[list[int], list[str]]:
    """SIGKILL each process that is still the same one; the pids ended, and what failed."""
    killed: list[ProcStat] = []
    problems: list[str] = []
    for p in processes:
        again = stat(p.pid)
        if again is None or again.start != p.start:
            continue  # gone meanwhile; its pid may be another process's now
        try:
            os.kill(p.pid, signal.SIGKILL)
            killed.append(p)
        except ProcessLookupError:
            pass
        except OSError as exc:
            problems.append(f"could not kill pid {p.pid}: {exc.strerror}")
    deadline = time.monotonic() + wait_s
    left = killed
    while left and time.monotonic() < deadline:
        left = [p for p in left if (s := stat(p.pid)) is not None and s.start == p.start
                and s.state != "Z"]
        if left:
            time.sleep(0.02)
    problems += [f"pid {p.pid} still runs {wait_s:.0f} s after SIGKILL" for p in left]
    return [p.pid for p in killed], problems
