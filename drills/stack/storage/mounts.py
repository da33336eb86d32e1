"""Mounts and loop devices a run left under its directory: finding them and taking them down.

A drill that dies (SIGKILL, a power cut of the drill's own machine) leaves its LazyFS
mount (stale once its daemon died with the drill: "Transport endpoint is not connected")
and its loop-mounted file system behind. ``leftovers(root)`` finds them by reading
/proc/self/mounts and /sys/block/loop*/loop/backing_file; ``clean(root)`` takes them down,
deepest first, so that ``drill clean`` and a test's teardown can remove the directory.
Only mounts below ``root`` and loop devices whose backing file is below ``root`` are touched.
"""

from __future__ import annotations

import enum
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from drills.errors import StackError

_MOUNTS = Path("/proc/self/mounts")
_LOOPS = Path("/sys/block")
_OCTAL = re.compile(r"\\([0-7]{3})")
_COMMAND_TIMEOUT_S = 30.0


class LeftoverKind(enum.StrEnum):
    LAZYFS = "lazyfs mount"
    LOOP_MOUNT = "loop mount"
    LOOP_DEVICE = "loop device"


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mounts."""

    source: str
    target: Path
    fstype: str


@dataclass(frozen=True)
class Leftover:
    """A mount or loop device found below a run directory."""

    kind: LeftoverKind
    #: the mount point, or for a loop device its backing file
    path: Path
    #: the loop device (/dev/loop3), or the mount's source
    device: str

    def __str__(self) -> str:
        return f"{self.kind} {self.path} ({self.device})"

    def to_dict(self) -> dict[str, str]:
        return {"kind": str(self.kind), "path": str(self.path), "device": self.device}


def _unescape(field: str) -> str:
    # the kernel writes space, tab, newline and backslash in paths as octal escapes
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def mounts() -> list[Mount]:
    """The mount table of this process's mount namespace, in mount order."""
    found = []
    for line in _MOUNTS.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        fields = line.split()
        if len(fields) >= 3:
            found.append(Mount(_unescape(fields[0]), Path(_unescape(fields[1])), fields[2]))
    return found


def is_mounted(path: Path) -> bool:
    """Whether ``path`` (resolved) is a mount point in the mount table."""
    target = path.resolve()
    return any(m.target == target for m in mounts())


def loop_devices() -> dict[str, Path]:
    """Attached loop devices and their backing files: {"/dev/loop3": Path(...)}."""
    found: dict[str, Path] = {}
    for backing in _LOOPS.glob("loop*/loop/backing_file"):
        try:
            name = backing.read_text(encoding="utf-8", errors="surrogateescape").rstrip("\n")
        except OSError:
            continue  # detached meanwhile
        found[f"/dev/{backing.parent.parent.name}"] = Path(name.removesuffix(" (deleted)"))
    return found


def _below(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def leftovers(root: Path) -> list[Leftover]:
    """Mounts below ``root`` (deepest first), then loop devices backed by a file below it."""
    root = root.resolve()
    found = []
    for mount in reversed(mounts()):
        if not _below(mount.target, root):
            continue
        kind = (LeftoverKind.LAZYFS if mount.fstype == "fuse.lazyfs"
                else LeftoverKind.LOOP_MOUNT if mount.source.startswith("/dev/loop")
                else None)
        if kind is not None:
            found.append(Leftover(kind, mount.target, mount.source))
    for device, backing in sorted(loop_devices().items()):
        if _below(backing, root):
            found.append(Leftover(LeftoverKind.LOOP_DEVICE, backing, device))
    return found


def run_tool(argv: list[str]) -> str | None:
    """Run a mount tool; None when it worked, else what it said (or why it could not run)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False,
                              timeout=_COMMAND_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{argv[0]}: {exc}"
    if done.returncode == 0:
        return None
    return (done.stderr or done.stdout).strip() or f"{argv[0]} exited {done.returncode}"


def unmount(target: Path, fuse: bool) -> None:
    """Unmount ``target``, lazily when it is busy; StackError if it is still mounted after."""
    said = []
    attempts: list[list[str]] = []
    if fuse and shutil.which("fusermount3"):
        attempts += [["fusermount3", "-u", str(target)], ["fusermount3", "-u", "-z", str(target)]]
    # a busy mount is detached lazily: it goes once its last open file is closed
    attempts += [["umount", str(target)], ["umount", "-l", str(target)]]
    for argv in attempts:
        if not is_mounted(target):
            return
        error = run_tool(argv)
        if error is not None:
            said.append(f"{' '.join(argv[:-1])}: {error}")
    if is_mounted(target):
        raise StackError(f"could not unmount {target}: " + "; ".join(said)
                         + ". To fix this, stop what uses it (fuser -vm " + str(target)
                         + ") and run: umount -l " + str(target))


def detach(device: str) -> None:
    """Detach a loop device; StackError if it stays attached."""
    if device not in loop_devices():
        return
    error = run_tool(["losetup", "-d", device])
    # an autoclear device goes by itself once unmounted: "No such device" is not a failure
    if device in loop_devices():
        raise StackError(f"could not detach {device}: {error}. To fix this, run: "
                         f"losetup -d {device}")


def clean(root: Path) -> list[Leftover]:
    """Take down every leftover below ``root``; returns what went.

    Tries them all before it fails: StackError names those that stayed.
    """
    gone, failed = [], []
    for leftover in leftovers(root):
        try:
            if leftover.kind == LeftoverKind.LOOP_DEVICE:
                detach(leftover.device)
            else:
                unmount(leftover.path, fuse=leftover.kind == LeftoverKind.LAZYFS)
        except StackError as exc:
            failed.append(str(exc))
        else:
            gone.append(leftover)
    # an unmounted loop file system can leave its device attached: a second look
    for leftover in leftovers(root):
        if leftover.kind == LeftoverKind.LOOP_DEVICE:
            try:
                detach(leftover.device)
            except StackError as exc:
                failed.append(str(exc))
            else:
                gone.append(leftover)
    if failed:
        raise StackError(f"left under {root}: " + " | ".join(failed))
    return gone


class Mounted(Protocol):
    """A file system a runtime mounted for a service (LazyFS, a loop-mounted disk)."""

    def unmount(self) -> None: ...


def release_workdir(workdir: Path, mounted: Iterable[Mounted]) -> list[str]:
    """A runtime's last step: its mounts down, any leftover below ``workdir``, then ``workdir``.

    Call it once nothing uses the mounts (servers stopped, containers gone). Every step runs
    even when one fails; the problems are returned, for the caller to raise with its own.
    """
    problems = []
    for mount in mounted:
        try:
            mount.unmount()  # LazyFS's daemon ends with it, waited for
        except StackError as exc:
            problems.append(str(exc))
    try:
        clean(workdir)
    except StackError as exc:
        problems.append(str(exc))
    shutil.rmtree(workdir, ignore_errors=True)
    return problems
