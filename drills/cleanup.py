"""``drill clean``: remove what crashed runs left behind, and nothing else.

It acts only on what it can prove a dead drills run created:

- a working directory ``<tmp>/drills-<run id>-*`` that belongs to this user and that no
  one else can write to (tmp is shared: anybody can create a directory there), whose
  ``owner.json`` names a drill process that is provably gone (drills.stack.ownership);
- in such a directory, the server processes listed in ``processes.jsonl`` that are still
  the very processes started (same pid and start time), with their children;
- in such a directory, what the procedures recorded in ``processes.jsonl`` left running:
  the process group and session of each one's leader, the processes that carry its mark
  (a child that called setsid), and their children, each proven by its start time
  (drills.procedures.leftovers);
- in such a directory, the shared memory its dead PostgreSQL servers left: the System V
  segments and /dev/shm files their lock files name, proven theirs (drills.stack.shm);
- containers and volumes labelled with a run id and a complete owner identity whose
  owner is provably gone.

Everything else is kept and, when it looks like drills', said why: a live run, an owner
on another machine or in another pid namespace, a directory of another user, a stack
started by hand from the compose file (it carries no owner), an unreadable record. What
is kept on purpose is not a failure; what should go and could not is (``drill clean``
exits 1).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.errors import StackError
from drills.procedures import leftovers
from drills.stack import shm
from drills.stack.ownership import Owner, OwnerState, process_start_ticks, process_state
from drills.stack.process import descendants
from drills.stack.storage import mounts as storage_mounts
from drills.stack.workdir import OWNER_FILE, PROCESSES_FILE, WORKDIR_PREFIX

_MAX_RECORD = 1 << 20  # an owner or process record is a few hundred bytes
_DEATH_WAIT_S = 5.0  # a SIGKILLed process is gone in milliseconds; then it is stuck


@dataclass(frozen=True)
class Said:
    """One line of ``drill clean``: what went (or would), what was kept and why, what failed."""

    text: str
    #: something that should have gone could not be removed
    failed: bool = False
    #: kept on purpose: not provably a dead run's (not a failure)
    kept: bool = False

    def __str__(self) -> str:
        return self.text


def _private(path: Path, *, directory: bool) -> str | None:
    """Why ``path`` cannot be trusted as ours, or None if it can."""
    try:
        info = path.lstat()
    except OSError as exc:
        return f"cannot stat it ({exc.strerror})"
    kind_ok = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    if not kind_ok:
        return f"not a {'directory' if directory else 'regular file'} (a link?)"
    if info.st_uid != os.geteuid():
        return f"owned by uid {info.st_uid}, not by this user ({os.geteuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "writable by other users"
    return None


def _read_record(path: Path) -> Any:
    """A JSON record of ours: a private regular file, read without following links."""
    problem = _private(path, directory=False)
    if problem:
        raise ValueError(f"{path.name}: {problem}")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        return f.read(_MAX_RECORD)


@dataclass(frozen=True)
class _Procedure:
    """A procedure's process group leader as recorded when it started."""

    name: str
    pid: int
    start: int
    mark: str | None


def _records(workdir: Path) -> tuple[list[tuple[str, int]], list[_Procedure]]:
    """The recorded servers still running (name, pid), and every recorded procedure.

    A procedure is kept whatever its leader's state: the leader may be gone and what it
    started not.
    """
    path = workdir / PROCESSES_FILE
    if not path.exists():
        return [], []
    alive, procedures = [], []
    for line in _read_record(path).decode(errors="replace").splitlines():
        try:
            rec = json.loads(line)
            name, pid, start = str(rec["name"]), int(rec["pid"]), int(rec["start"])
        except (ValueError, KeyError, TypeError):
            continue
        if pid <= 1 or start <= 0:
            continue
        if rec.get("kind") == "procedure":
            mark = rec.get("mark")
            procedures.append(_Procedure(name, pid, start,
                                         mark if isinstance(mark, str) and mark else None))
        elif process_start_ticks(pid) == start and process_state(pid) != "Z":
            alive.append((name, pid))
    return alive, procedures


def _end_procedures(workdir: Path, procedures: list[_Procedure],
                    dry_run: bool) -> Iterator[Said]:
    """Every process a recorded procedure left running (drills.procedures.leftovers).

    Its group, its session, what carries its mark, and everything below them.
    """
    for procedure in procedures:
        found = leftovers.tied(procedure.pid, procedure.start, procedure.mark)
        if not found:
            continue
        shown = ", ".join(f"pid {p.pid} ({_command(p.pid)})" for p in found)
        if dry_run:
            yield Said(f"would kill what {procedure.name} of {workdir} left running: {shown}")
            continue
        ended, problems = leftovers.end(found)
        if ended:
            yield Said(f"killed what {procedure.name} of {workdir} left running: {shown}")
        for problem in problems:
            yield Said(f"{problem} (left by {procedure.name} of {workdir})", failed=True)


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)[:80]


def clean_local(tmp: Path | None = None, dry_run: bool = False) -> Iterator[Said]:
    """One line per thing removed (or that would be), kept and why, or not removed."""
    root = tmp or Path(tempfile.gettempdir())
    found = False
    for workdir in sorted(root.glob(f"{WORKDIR_PREFIX}*")):
        if not (workdir / OWNER_FILE).exists():
            continue  # not made by drills: never touch it, nothing to say
        problem = _private(workdir, directory=True)
        if problem:
            yield Said(f"kept {workdir}: {problem}", kept=True)
            continue
        try:
            record = json.loads(_read_record(workdir / OWNER_FILE))
        except (OSError, ValueError) as exc:
            yield Said(f"kept {workdir}: unreadable {OWNER_FILE} ({exc})", kept=True)
            continue
        owner = Owner.from_dict(record.get("owner") if isinstance(record, dict) else None)
        if owner is None:
            yield Said(f"kept {workdir}: {OWNER_FILE} does not identify its owner completely",
                       kept=True)
            continue
        state, why = owner.status()
        if state != OwnerState.DEAD:
            yield Said(f"kept {workdir}: {why}", kept=True)
            continue
        found = True
        try:
            # pids recorded before a restart of the machine mean nothing now
            same_boot = owner.boot == Owner.current().boot
            servers, procedures = _records(workdir) if same_boot else ([], [])
        except (OSError, ValueError) as exc:
            yield Said(f"kept {workdir}: unreadable {PROCESSES_FILE} ({exc})", kept=True)
            continue
        yield from _end_procedures(workdir, procedures, dry_run)
        yield from _kill_servers(workdir, servers, dry_run)
        yield from _unmount_storage(workdir, dry_run)
        if same_boot:  # a restart took every System V segment and /dev/shm file with it
            yield from _release_shared_memory(workdir, dry_run)
        if dry_run:
            yield Said(f"would remove {workdir} ({why})")
            continue
        shutil.rmtree(workdir, ignore_errors=True)
        if workdir.exists():
            yield Said(f"could not remove all of {workdir} ({why}); see what is left in it",
                       failed=True)
        else:
            yield Said(f"removed {workdir} ({why})")
    if not found:
        yield Said("local: nothing to clean")


def _kill_servers(workdir: Path, servers: list[tuple[str, int]],
                  dry_run: bool) -> Iterator[Said]:
    """SIGKILL each recorded server still running and its children; wait until they are gone."""
    killed = []
    for name, pid in servers:
        tree = [pid, *descendants(pid)]
        yield Said(f"{'would kill' if dry_run else 'killed'} {name} (pid {pid} and "
                   f"{len(tree) - 1} children), a server of {workdir}")
        if dry_run:
            continue
        for member in tree:
            start = process_start_ticks(member)  # before the signal: after, it may be gone
            try:
                os.kill(member, signal.SIGKILL)
                if start is not None:
                    killed.append((member, start))
            except ProcessLookupError:
                pass
            except OSError as exc:
                yield Said(f"could not kill pid {member}: {exc.strerror}", failed=True)
    deadline = time.monotonic() + _DEATH_WAIT_S
    while killed and time.monotonic() < deadline:
        # gone, or a zombie its new parent has not reaped yet: its memory is released
        killed = [(pid, start) for pid, start in killed if process_start_ticks(pid) == start
                  and process_state(pid) != "Z"]
        if killed:
            time.sleep(0.05)
    for pid, _ in killed:
        yield Said(f"pid {pid} still runs {_DEATH_WAIT_S:.0f} s after SIGKILL; its shared "
                   "memory cannot go while it does", failed=True)


def _unmount_storage(workdir: Path, dry_run: bool) -> Iterator[Said]:
    """The LazyFS and loop mounts (and loop devices) of a dead run's storage faults."""
    found = storage_mounts.leftovers(workdir)
    if dry_run:
        for leftover in found:
            yield Said(f"would take down {leftover}")
        return
    if not found:
        return
    try:
        gone = storage_mounts.clean(workdir)
    except StackError as exc:
        yield Said(str(exc), failed=True)
        return
    for leftover in gone:
        yield Said(f"took down {leftover}")


def _release_shared_memory(workdir: Path, dry_run: bool) -> Iterator[Said]:
    """The System V segments and /dev/shm files the run's dead PostgreSQL servers left."""
    found, kept = shm.find(workdir)
    for line in kept:
        yield Said(line, kept=True)
    for leftover in found:
        if dry_run:
            yield Said(f"would remove {leftover.describe()}")
            continue
        problems = shm.remove(leftover)
        for problem in problems:
            yield Said(f"{problem} (left by {leftover.server} of {workdir})", failed=True)
        if not problems:
            yield Said(f"removed {leftover.describe()}")


def clean_docker(dry_run: bool = False) -> Iterator[Said]:
    """Remove containers, volumes and networks of crashed runs, found by label; nothing else."""
    from drills.errors import StackError
    from drills.stack.engine import RUN_LABEL, client

    try:
        docker_client = client(timeout=5)
    except StackError:
        yield Said("docker: no engine answers; nothing to clean there")
        return
    from docker.errors import NotFound

    found = False
    try:
        listings: list[tuple[str, Callable[[], list[Any]]]] = [
            ("container", lambda: list(docker_client.containers.list(
                all=True, filters={"label": RUN_LABEL}))),
            ("volume", lambda: list(docker_client.volumes.list(filters={"label": RUN_LABEL}))),
            ("network", lambda: list(docker_client.networks.list(filters={"label": RUN_LABEL}))),
        ]
        for what, listing in listings:  # containers first: what they use cannot go before
            for item in listing():
                labels = _labels(item)
                dead, why = _provably_dead(labels)
                if not dead:
                    yield Said(f"kept {what} {item.name}: {why}", kept=True)
                    continue
                found = True
                run = labels.get(RUN_LABEL)
                if dry_run:
                    yield Said(f"would remove {what} {item.name} (run {run}: {why})")
                    continue
                try:
                    _remove(item, what)
                    yield Said(f"removed {what} {item.name} (run {run}: {why})")
                except NotFound:
                    yield Said(f"{what} {item.name} (run {run}) went meanwhile")
                except Exception as exc:  # still in use, or refused: say so, go on
                    yield Said(f"could not remove {what} {item.name}: {exc}", failed=True)
    finally:
        docker_client.close()
    if not found:
        yield Said("docker: nothing to clean")


def _labels(item: Any) -> dict[str, str]:
    """Labels of a container (inspected or listed), volume or network."""
    attrs = item.attrs or {}
    return dict(attrs.get("Labels") or (attrs.get("Config") or {}).get("Labels") or {})


def _remove(item: Any, what: str) -> None:
    if what == "container":
        item.remove(force=True, v=True)
    elif what == "volume":
        item.remove(force=True)
    else:
        item.remove()


def _provably_dead(labels: dict[str, str] | None) -> tuple[bool, str]:
    owner = Owner.from_labels(labels)
    if owner is None:
        return False, "no complete owner label (started by hand, or by an older drills)"
    state, why = owner.status()
    return state == OwnerState.DEAD, why
