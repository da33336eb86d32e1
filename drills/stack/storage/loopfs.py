"""LoopFS: a small ext4 file system on a loop device, to fill for the DiskFull fault.

The image file, the mount point and the filler file all live in the directory the caller
gives (the run directory). The file system is made with no reserved blocks (``-m 0``) so
that it fills at the same point for root and for a server's own account. A run that dies
leaves the mount and its loop device behind: drills.stack.storage.mounts.clean() finds and takes
them down from /proc/self/mounts and /sys/block.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from drills.errors import FaultError, StackError
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack.storage.mounts import detach, is_mounted, mounts, run_tool, unmount

FILLER = ".drills-filler"
_CHUNK = 1 << 20
_BLOCK = 4096


def available() -> str | None:
    """None when a loop-mounted ext4 can be made here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "not root: attaching a loop device and mounting it needs root"
    for tool, package in (("losetup", "mount"), ("mkfs.ext4", "e2fsprogs"), ("mount", "mount")):
        if shutil.which(tool) is None:
            return f"{tool} is missing: apt-get install {package}"
    with tempfile.TemporaryDirectory(prefix="drills-loop-check-") as scratch:
        image = Path(scratch) / "probe.img"
        image.write_bytes(b"\0" * _BLOCK)
        try:
            done = subprocess.run(["losetup", "--find", "--show", str(image)],
                                  capture_output=True, text=True, check=False, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"losetup could not run: {exc}"
        if done.returncode != 0:
            return ("no loop device can be attached (losetup --find --show: "
                    f"{done.stderr.strip()}); in a container, give it /dev/loop-control")
        run_tool(["losetup", "-d", done.stdout.strip()])
    return None


class LoopFS:
    """An ext4 file system in ``image_path``, loop-mounted on ``mountpoint``."""

    def __init__(self, image_path: Path, mountpoint: Path, device: str) -> None:
        self.image_path = image_path
        self.mountpoint = mountpoint
        self.device = device

    @classmethod
    def create(cls, image_path: Path, size_bytes: int, mountpoint: Path) -> LoopFS:
        """Make the image (sparse), mkfs.ext4 it and mount it; StackError if any step fails."""
        reason = available()
        if reason is not None:
            raise StackError(f"cannot make a loop file system at {image_path}: {reason}")
        image_path, mountpoint = image_path.resolve(), mountpoint.resolve()
        if image_path == mountpoint or image_path.is_relative_to(mountpoint):
            raise StackError(f"the image {image_path} would be inside its own mount point")
        mountpoint.mkdir(parents=True, exist_ok=True)
        if is_mounted(mountpoint):
            raise StackError(f"{mountpoint} is already a mount point")
        with open(image_path, "xb") as image:  # never over someone's file
            image.truncate(size_bytes)
        try:
            for argv in (["mkfs.ext4", "-q", "-F", "-m", "0", str(image_path)],
                         ["mount", "-o", "loop", str(image_path), str(mountpoint)]):
                error = run_tool(argv)
                if error is not None:
                    raise StackError(f"{' '.join(argv)} failed: {error}")
            device = next(m.source for m in reversed(mounts()) if m.target == mountpoint)
        except BaseException:
            if is_mounted(mountpoint):
                unmount(mountpoint, fuse=False)
            image_path.unlink(missing_ok=True)
            raise
        return cls(image_path, mountpoint, device)

    @property
    def filler(self) -> Path:
        return self.mountpoint / FILLER

    def free_bytes(self) -> int:
        """Bytes an unprivileged writer can still use (no blocks are reserved here)."""
        stats = os.statvfs(self.mountpoint)
        return stats.f_bavail * stats.f_frsize

    def fill(self, leave_bytes: int = 0) -> int:
        """Write the filler until ENOSPC (or until ``leave_bytes`` remain); bytes written."""
        written = 0
        chunk = _CHUNK
        zeros = bytes(_CHUNK)
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                room = self.free_bytes() - leave_bytes
                size = min(chunk, room) if leave_bytes else chunk
                if size <= 0:
                    break
                try:
                    written += os.write(fd, zeros[:size])
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    if chunk <= 1:
                        break
                    # the last blocks: smaller writes take what is left, down to one byte
                    chunk = max(1, chunk // 16)
            try:
                os.fsync(fd)  # ext4 allocates at write time, but make the fill durable
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
        finally:
            os.close(fd)
        return written

    def free(self) -> int:
        """Delete the filler; the bytes it held (0 if there was none)."""
        try:
            size = self.filler.stat().st_size
        except FileNotFoundError:
            return 0
        self.filler.unlink()
        return size

    def unmount(self) -> None:
        """Unmount (lazily if busy), detach the loop device and remove the image."""
        if is_mounted(self.mountpoint):
            unmount(self.mountpoint, fuse=False)
        detach(self.device)
        self.image_path.unlink(missing_ok=True)

    def __enter__(self) -> LoopFS:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.unmount()


def fill_action(disk: LoopFS | None, service: str, where: str, mount: str) -> Action:
    """The DiskFull fault: ``service``'s small disk filled until a write gets ENOSPC.

    ``where`` names it for people, ``mount`` as the server sees it.
    """
    if disk is None:
        raise FaultError(f"{service}: none of its files is on a small disk of its own; "
                         "give it disk_bytes")
    written = disk.fill()
    return Action(f"filled {where} with {written:,} bytes, until a write got ENOSPC",
                  Instant.now(), {"filled_bytes": written, "mount": mount,
                                  "free_bytes_after": disk.free_bytes()})


def free_action(disk: LoopFS | None, service: str, where: str) -> Action:
    """Give back what ``fill_action`` took (the FreeDisk recovery step)."""
    if disk is None:
        raise StackError(f"{service}: it has no small disk to free")
    freed = disk.free()
    return Action(f"deleted the filler: {freed:,} bytes free again on {where}", Instant.now(),
                  {"freed_bytes": freed, "free_bytes_after": disk.free_bytes()})
