"""What a server of the local runtime is: a supervised process in a directory of its own.

Each kind builds its own service class on ``LocalService``, which gives every local server
the optional capabilities a process in a directory can offer: killable and pausable
(signals to its whole process tree), a data volume (its directory: lost, or a file of it
overwritten), and exec (a command run as the server's account with the server's tools and
connection settings). The local runtime (drills.runtime.local) hands a kind a
``LocalContext`` to build it in.

A server killed for good leaves shared memory (a killed PostgreSQL: a System V segment and
/dev/shm files) that outlives the run's directory: it is removed, proven the run's, when
the server's data goes (drills.stack.shm).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from drills.errors import FaultError, StackError
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack import shm
from drills.stack.capabilities import BackupDir, ExecResult
from drills.stack.process import RunAs, SupervisedProcess
from drills.stack.service import Service
from drills.stack.storage.lazyfs import LazyFS
from drills.stack.storage.loopfs import LoopFS, fill_action, free_action


@dataclass(frozen=True)
class LocalContext:
    """What the local runtime gives a kind building a service."""

    workdir: Path  # the run's directory; a service keeps everything in workdir / name
    logs_dir: Path  # the scenario's logs directory
    #: the services built so far, in stack order: a service may use those listed before it
    services: Mapping[str, Service]


class LocalService(Service):
    """A server run as a supervised process, keeping all its files in ``home``."""

    runtime = "local"
    proc: SupervisedProcess
    home: Path
    run_as: RunAs | None = None
    #: the LazyFS its data directory is mounted on (``storage: lazyfs``), once mounted
    lazyfs: LazyFS | None = None
    #: the small file system its log or data is on (``disk_bytes``), once mounted
    small_disk: LoopFS | None = None

    @property
    @abstractmethod
    def data_dir(self) -> Path:
        """Where the server keeps its data (the root of ``corrupt_file`` paths)."""

    @abstractmethod
    def exec_env(self) -> dict[str, str]:
        """Connection settings for commands run in this server's environment."""

    @abstractmethod
    def exec_path(self) -> list[Path]:
        """Directories of the server's own tools, searched first by ``exec``."""

    # -- lifecycle -------------------------------------------------------------------

    def alive(self) -> bool:
        return self.proc.running()

    def wait_exit(self, timeout: float) -> bool:
        return self.proc.wait(timeout) is not None

    def log_tail(self, lines: int = 20) -> str:
        return self.proc.log_tail(lines)

    # -- Killable, Pausable ----------------------------------------------------------

    def _signal(self, sig: signal.Signals) -> Action:
        pids, sent = self.proc.signal_tree(sig)
        return Action(f"{sig.name} to pid {pids[0]} and its {len(pids) - 1} child processes",
                      sent, {"pids": len(pids)})

    def kill(self) -> Action:
        return self._signal(signal.SIGKILL)

    def freeze(self) -> Action:
        return self._signal(signal.SIGSTOP)

    def thaw(self) -> Action:
        return self._signal(signal.SIGCONT)

    # -- LosesPower ------------------------------------------------------------------

    def mount_lazyfs(self, data: Path) -> None:
        """Mount LazyFS on ``data`` (made here, empty), its real files in ``home``.

        LazyFS's own files (configuration, command FIFOs, log) and its backing directory
        stay beside the mount, never in it; the mount goes when the runtime closes
        (drills.stack.storage.mounts.clean). StackError, with the reason, where LazyFS cannot
        be mounted (no /dev/fuse, not root, not built).
        """
        if self.lazyfs is not None:
            return
        files, backing = self.home / "lazyfs", self.home / "lazyfs-root"
        for path in (data, files, backing):
            path.mkdir(mode=0o700, exist_ok=True)
        mounted = LazyFS(files, name=f"{self.name}-lazyfs")
        mounted.mount(data, backing)
        self._own(data)  # through the mount: the server's account owns its data directory
        os.chmod(data, 0o700)
        self.lazyfs = mounted

    def cut_power(self) -> Action:
        if self.lazyfs is None:
            raise FaultError(f"{self.name}: its data is not on LazyFS, so a power cut cannot "
                             "be told from a crash; give it storage=lazyfs")
        killed = self._signal(signal.SIGKILL)
        if not self.wait_exit(30):
            raise FaultError(f"{self.name} still runs 30 s after {killed.mechanism}")
        answer = self.lazyfs.clear_cache()
        return Action(f"{killed.mechanism}, then LazyFS dropped every write not fsynced "
                      f"(clear-cache; LazyFS: {LazyFS.said(answer)})", killed.at,
                      {**killed.facts, "lazyfs": answer, "lazyfs_version": self.lazyfs.version})

    # -- FillsDisk ------------------------------------------------------------------

    def mount_small_disk(self, mountpoint: Path, size_bytes: int) -> None:
        """An ext4 of ``size_bytes`` on a loop device at ``mountpoint``, owned by the server.

        Its image lives in the run's directory beside the service's home; the runtime
        takes the mount and the loop device down when it closes, also after an error.
        """
        if self.small_disk is not None:
            return
        mountpoint.mkdir(mode=0o700, exist_ok=True)
        image = self.home.parent / f".{self.name}-disk.img"
        self.small_disk = LoopFS.create(image, size_bytes, mountpoint)
        self._own(mountpoint)
        os.chmod(mountpoint, 0o700)

    def fill_disk(self) -> Action:
        disk = self.small_disk
        where = f"{disk.mountpoint} ({disk.device})" if disk else ""
        return fill_action(disk, self.name, where, str(disk.mountpoint) if disk else "")

    def free_disk(self) -> Action:
        return free_action(self.small_disk, self.name,
                           str(self.small_disk.mountpoint) if self.small_disk else "")

    # -- HasDataVolume ---------------------------------------------------------------

    def lose_data(self) -> Action:
        at = Instant.now()
        how = "server not running"
        if self.proc.running():
            killed = self._signal(signal.SIGKILL)
            at, how = killed.at, killed.mechanism
            if not self.wait_exit(30):
                raise FaultError(f"{self.name} still runs 30 s after {how}")
        self.release_shared_memory()  # its lock file, which names it, goes with the data
        shutil.rmtree(self.home)
        return Action(f"{how}, then removed its directory {self.home} (data, configuration)",
                      at, {"removed": str(self.home)})

    def corrupt_file(self, path: str, offset: int, data: bytes) -> Action:
        target = inside(self.data_dir, path, self.name)
        fd = os.open(target, os.O_WRONLY | os.O_NOFOLLOW)
        try:
            at = Instant.now()
            written = os.pwrite(fd, data, offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        return Action(f"overwrote {written} bytes at offset {offset} of {target}", at,
                      {"file": path, "offset": offset, "bytes": written})

    def release_shared_memory(self) -> None:
        """Remove the shared memory this stopped server's dead processes left (drills.stack.shm)."""
        shm.release(self.proc.workdir or self.home.parent, under=self.home)

    # -- Reconfigurable ----------------------------------------------------------------

    def override_args(self, overrides: Mapping[str, str]) -> list[str]:
        """Its kind's arguments that override configuration for one start.

        drills.kinds.base.ServiceKind.override_args: a kind whose server takes them gives
        them here too; one that takes none cannot be restarted with overrides (StackError).
        """
        raise StackError(f"kind {self.kind}: its server takes no configuration overrides "
                         "on its command line")

    def start_with(self, overrides: Mapping[str, str]) -> None:
        base = list(self.proc.argv)
        self.proc.argv = base + self.override_args(overrides)
        try:
            self.start()
        finally:
            self.proc.argv = base

    # -- KeepsBackups -----------------------------------------------------------------

    def backup_dir(self) -> BackupDir:
        """``<run dir>/backups/<name>``: beside the service's home, so a loss spares it."""
        path = self.home.parent / "backups" / self.name
        if not path.exists():
            path.parent.mkdir(mode=0o711, exist_ok=True)
            path.mkdir(mode=0o700)
            self._own(path)
        return BackupDir(host=path, inside=str(path))

    @property
    def data_path(self) -> str:
        return str(self.data_dir)

    def exec_offline(self, argv: Sequence[str], timeout_s: float = 600.0) -> ExecResult:
        if self.proc.running():
            raise StackError(f"{self.name} is running: stop it before working on its data")
        self.release_shared_memory()  # work on the data may remove the lock file naming it
        if not self.home.exists():  # lost: an empty home, as a new server would get
            self.home.mkdir(mode=0o700)
            self._own(self.home)
        return self.exec(argv, timeout_s)

    def _own(self, path: Path) -> None:
        if self.run_as is not None:
            os.chown(path, self.run_as.uid, self.run_as.gid)

    # -- Exec ------------------------------------------------------------------------

    def exec(self, argv: Sequence[str], timeout_s: float = 60.0,
             stdin: bytes | None = None) -> ExecResult:
        if not argv:
            raise StackError(f"{self.name}: exec needs a command")
        search = os.pathsep.join([*map(str, self.exec_path()),
                                  os.environ.get("PATH", "/usr/bin:/bin")])
        program = shutil.which(argv[0], path=search)
        if program is None:
            raise StackError(f"{self.name}: {argv[0]!r} not found in {search}")
        full = [program, *argv[1:]]
        if self.run_as is not None:
            full = self.run_as.wrap(full)
        env = {"PATH": search, "LANG": "C.UTF-8", "HOME": str(self.home), **self.exec_env()}
        try:
            done = subprocess.run(full, input=stdin, capture_output=True, env=env,
                                  cwd=self.home, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"{self.name}: {argv[0]} did not finish in {timeout_s:.0f} s") \
                from exc
        return ExecResult(tuple(argv), done.returncode, done.stdout, done.stderr)


    def exec_checked(self, argv: Sequence[str], stdin: str | None = None) -> None:
        """Run a server tool as the server's account (Exec); StackError if it fails."""
        done = self.exec(argv, timeout_s=120, stdin=None if stdin is None else stdin.encode())
        if done.returncode != 0:
            raise StackError(f"{self.name}: {stdin.strip() if stdin else ' '.join(argv)} failed "
                             f"(exit {done.returncode}):\n"
                             f"{done.stderr.decode(errors='replace').strip()[-2000:]}")


def inside(root: Path, relative: str, service: str) -> Path:
    """``root / relative``, refusing any path that leaves ``root``."""
    candidate = Path(relative)
    resolved = (root / candidate).resolve()
    if candidate.is_absolute() or not resolved.is_relative_to(root.resolve()):
        raise FaultError(f"{service}: {relative!r} is not a path inside its data directory")
    return resolved
