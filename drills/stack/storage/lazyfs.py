"""LazyFS: a FUSE file system that keeps writes in its own cache until they are fsynced.

A process crash leaves the kernel's page cache intact, so a SIGKILL never loses a write
the server handed to the OS without fsync; a power cut does. LazyFS (github.com/dsrhaslab/
lazyfs, 0.3.0, built by scripts/setup.sh as .venv/bin/lazyfs) holds every write in its own
cache and writes it to the backing directory only on fsync; its ``lazyfs::clear-cache``
command drops what was not fsynced, as the power cut would.

LazyFS runs in the foreground as our own child (it dies with the drill), mounted by root with
``allow_other`` so that a server running as another account can use it. Its configuration,
command FIFO, completion FIFO and log live in the directory the caller gives, never in the
mount. Commands go through the FIFO, one line each; LazyFS answers in its log, and
clear-cache also on the completion FIFO (``finished::clear-cache``), which makes it
synchronous.

Fault injection in 0.3.0: ``lazyfs::crash::timing=before|after::op=<syscall>::from_rgx=..``
(``arm_crash``) kills LazyFS at an operation on a matching path; torn writes (``SplitWrite``)
and reordered writes exist only as ``[[injection]]`` tables of the configuration, fixed
before mounting for one exact file and its n-th write, and LazyFS kills itself right after
applying one. There is no torn-write command.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import stat
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from drills.errors import DrillError, FaultError, StackError
from drills.stack.process import SupervisedProcess
from drills.stack.storage.mounts import is_mounted, unmount

#: the version scripts/setup.sh builds
LAZYFS_VERSION = "0.3.0"
#: where setup records the version it built, relative to the venv (sys.prefix)
VERSION_FILE = Path("share/drills/lazyfs.version")
_MOUNT_TIMEOUT_S = 10.0
_POLL_S = 0.01
_COMPLETED = b"finished::clear-cache\n"
_MAX_COMMAND = 99  # main.cpp reads 100 bytes and ends the command at the last one


def lazyfs_binary() -> Path | None:
    """$DRILLS_LAZYFS, else lazyfs beside this Python (where setup builds it), else on PATH."""
    configured = os.environ.get("DRILLS_LAZYFS")
    candidates = [configured, str(Path(sys.executable).parent / "lazyfs"),
                  shutil.which("lazyfs")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def lazyfs_version(binary: Path) -> str | None:
    """The version setup recorded for ``binary`` (LazyFS has no --version), None if unknown."""
    try:
        text = (binary.parent.parent / VERSION_FILE).read_text(encoding="utf-8")
    except OSError:
        return None
    return text.strip() or None


def available() -> str | None:
    """None when LazyFS can be mounted here, else the reason it cannot (and the fix)."""
    if not Path("/dev/fuse").exists():
        return ("no /dev/fuse: this kernel or container has no FUSE (in a container, "
                "run it with --device /dev/fuse --cap-add SYS_ADMIN)")
    if os.geteuid() != 0:
        return ("not root: LazyFS is mounted by root with allow_other so that the server's "
                "own account can use it; run the drill as root")
    try:
        os.close(os.open("/dev/fuse", os.O_RDWR))
    except OSError as exc:
        return f"/dev/fuse cannot be opened: {exc.strerror}"
    if shutil.which("fusermount3") is None:
        return "fusermount3 is missing: apt-get install fuse3"
    if lazyfs_binary() is None:
        return ("lazyfs not found: run scripts/setup.sh (it builds LazyFS 0.3.0 as "
                ".venv/bin/lazyfs) or set DRILLS_LAZYFS to its path")
    return None


def _toml_string(value: Path | str) -> str:
    # a JSON string is a valid TOML basic string for the paths we write
    return json.dumps(str(value))


@dataclass(frozen=True)
class SplitWrite:
    """A torn write, fixed in the configuration before mounting (0.3.0 has no command for it).

    The ``occurrence``-th write to ``file`` (its path in the backing directory: LazyFS
    compares the full path it sees) is cut into parts of ``parts_bytes`` (they must add up
    to that write's size, else LazyFS only logs a warning and writes nothing torn); the
    parts numbered in ``persist`` (from 1) reach the backing file, then LazyFS kills itself
    (SIGKILL): the write never returns and everything not fsynced is gone.
    """

    file: Path
    occurrence: int
    parts_bytes: tuple[int, ...]
    persist: tuple[int, ...]

    def to_toml(self) -> str:
        return "\n".join([
            "[[injection]]",
            'type="split_write"',
            f"file={_toml_string(self.file)}",
            f"occurrence={self.occurrence}",
            f"parts_bytes={list(self.parts_bytes)}",
            f"persist={list(self.persist)}",
            "",
        ])


class LazyFS:
    """One LazyFS mount whose files (configuration, FIFOs, log) live in ``workdir``.

    ``record_in``: a drills run directory where the LazyFS process is recorded for
    ``drill clean``. ``cache_mib``: LazyFS's cache; it pre-allocates all of it, and with
    eviction off (a power cut loses everything not fsynced) it must hold every un-fsynced
    byte between two fsyncs.
    """

    def __init__(self, workdir: Path, *, name: str = "lazyfs", cache_mib: int = 256,
                 binary: Path | None = None, record_in: Path | None = None,
                 injections: Sequence[SplitWrite] = ()) -> None:
        self.workdir = workdir
        self.name = name
        self.cache_mib = cache_mib
        self.binary = binary or lazyfs_binary()
        self.record_in = record_in
        self.injections = tuple(injections)
        self.config_path = workdir / f"{name}.toml"
        self.fifo_path = workdir / f"{name}.fifo"
        self.completed_fifo_path = workdir / f"{name}.done.fifo"
        self.log_path = workdir / f"{name}.log"
        self.output_path = workdir / f"{name}.out"
        self.mountpoint: Path | None = None
        self.root_dir: Path | None = None
        self._process: SupervisedProcess | None = None
        self._completed_fd: int | None = None

    @property
    def version(self) -> str | None:
        return None if self.binary is None else lazyfs_version(self.binary)

    @property
    def running(self) -> bool:
        """Whether LazyFS still serves the mount (a crash fault or a split write kills it)."""
        return self._process is not None and self._process.running()

    def wait_exited(self, timeout_s: float) -> int | None:
        """LazyFS's exit status once it exited (-9 after a crash fault), None if still up."""
        return None if self._process is None else self._process.wait(timeout_s)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def config_text(self) -> str:
        """LazyFS's TOML configuration (the section names are the 0.3.0 parser's)."""
        return "\n".join([
            "[faults]",
            f"fifo_path={_toml_string(self.fifo_path)}",
            f"fifo_path_completed={_toml_string(self.completed_fifo_path)}",
            "[cache]",
            "apply_eviction=false",
            "[cache.simple]",
            f'custom_size="{self.cache_mib}mb"',
            "blocks_per_page=1",
            "[filesystem]",
            "log_all_operations=false",
            f"logfile={_toml_string(self.log_path)}",
            "",
            *(injection.to_toml() for injection in self.injections),
        ])

    def mount(self, mountpoint: Path, root_dir: Path,
              timeout_s: float = _MOUNT_TIMEOUT_S) -> None:
        """Mount LazyFS on ``mountpoint``, its files kept in ``root_dir``; StackError if not."""
        if self._process is not None:
            raise StackError(f"{self.name} is already mounted on {self.mountpoint}")
        reason = available()
        if reason is not None or self.binary is None:
            raise StackError(f"cannot mount LazyFS on {mountpoint}: {reason}")
        mountpoint, root_dir = mountpoint.resolve(), root_dir.resolve()
        work = self.workdir.resolve()
        for inside in (mountpoint, root_dir):
            if work == inside or work.is_relative_to(inside):
                raise StackError(f"{self.name}: its files in {work} would be inside {inside}; "
                                 "keep the configuration, FIFOs and log off the mount")
        if "-o" in self.config_path.name.lower():
            raise StackError(f"{self.name}: LazyFS 0.3.0 ignores a configuration file whose "
                             f"name contains '-o' ({self.config_path.name}); choose another name")
        if "," in str(root_dir):
            # FUSE's -o list is comma-separated: subdir= cannot carry one
            raise StackError(f"{self.name}: the backing directory {root_dir} contains a comma")
        if is_mounted(mountpoint):
            raise StackError(f"{self.name}: {mountpoint} is already a mount point")
        for directory in (self.workdir, mountpoint, root_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        for fifo in (self.fifo_path, self.completed_fifo_path):
            fifo.unlink(missing_ok=True)
            os.mkfifo(fifo, 0o600)
        # LazyFS opens the completion FIFO for writing before it serves any command: that
        # blocks until a reader exists, so ours is open first and for the whole mount
        self._completed_fd = os.open(self.completed_fifo_path, os.O_RDWR | os.O_NONBLOCK)
        self.mountpoint, self.root_dir = mountpoint, root_dir
        self._process = SupervisedProcess(
            self.name,
            [str(self.binary), str(mountpoint), "--config-path", self.config_path.name, "-f",
             "-o", f"allow_other,modules=subdir,subdir={root_dir}"],
            # relative: LazyFS 0.3.0 ignores a --config-path that contains "-o" in any case
            # (/tmp/pytest-of-root/...) and then reads config/default.toml
            self.output_path, cwd=self.workdir, workdir=self.record_in,
        )
        try:
            self._process.start()
            self._wait(lambda: is_mounted(mountpoint)
                       and b"waiting for fault commands" in self._log_from(0),
                       f"mounting {mountpoint}", timeout_s, StackError)
        except BaseException:
            self.unmount()
            raise

    def _log_from(self, offset: int) -> bytes:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read()
        except OSError:
            return b""

    def _wait(self, ready: Callable[[], bool], what: str, timeout_s: float,
              error: type[DrillError]) -> None:
        """Poll ``ready`` until it holds; ``error`` with LazyFS's log if it exits or is late."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            if self._process is None or not self._process.running():
                code = None if self._process is None else self._process.returncode()
                raise error(f"LazyFS exited (code {code}) while {what}:\n{self._output_tail()}")
            if time.monotonic() > deadline:
                raise error(f"LazyFS was not done {what} within {timeout_s} s (log "
                            f"{self.log_path}):\n{self._output_tail()}")
            time.sleep(_POLL_S)

    def _output_tail(self) -> str:
        for path in (self.log_path, self.output_path):
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            if lines:
                return "\n".join(lines[-20:])
        return "(LazyFS wrote nothing)"

    def command(self, command: str, done_marker: str | tuple[str, ...],
                timeout_s: float = 30.0) -> str:
        """Send one command line and return LazyFS's log lines about it, once it is done.

        ``done_marker``: the text of the log line that ends LazyFS's answer (or of any of
        them). LazyFS reads at most 99 bytes of a command.
        """
        if len(command.encode()) > _MAX_COMMAND:
            raise FaultError(f"{command}: longer than the {_MAX_COMMAND} bytes LazyFS reads")
        markers = (done_marker,) if isinstance(done_marker, str) else done_marker
        if self._process is None or not self._process.running():
            raise FaultError(f"{command}: LazyFS is not running on {self.mountpoint}")
        start = self.log_path.stat().st_size
        # the FIFO is opened per command: LazyFS reads a whole line per read()
        try:
            fd = os.open(self.fifo_path, os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(fd, command.encode() + b"\n")
            finally:
                os.close(fd)
        except OSError as exc:
            raise FaultError(f"{command}: cannot write to {self.fifo_path}: {exc}") from exc
        answer = b""

        def answered() -> bool:
            nonlocal answer
            answer = self._log_from(start)
            return any(marker.encode() in answer for marker in markers)

        self._wait(answered, f"answering {command}", timeout_s, FaultError)
        return answer.decode(errors="replace").strip()

    def clear_cache(self, timeout_s: float = 30.0) -> str:
        """Drop every write not fsynced (the power cut); returns what LazyFS answered."""
        if self._completed_fd is None:
            raise FaultError(f"lazyfs::clear-cache: {self.name} is not mounted")
        try:
            while os.read(self._completed_fd, 4096):
                pass  # a stale completion from an earlier, timed-out command
        except BlockingIOError:
            pass
        answer = self.command("lazyfs::clear-cache", "cache is cleared.", timeout_s)
        # the log line comes before the completion FIFO is written: wait for both
        ready, _, _ = select.select([self._completed_fd], [], [], timeout_s)
        done = os.read(self._completed_fd, 4096) if ready else b""
        if _COMPLETED not in done:
            raise FaultError(f"lazyfs::clear-cache: no {_COMPLETED.strip().decode()} on "
                             f"{self.completed_fifo_path} within {timeout_s} s:\n{answer}")
        return f"{answer}\n{_COMPLETED.decode().strip()}"

    @staticmethod
    def said(answer: str) -> str:
        """LazyFS's answer in a line for people: its messages, without the log's prefixes."""
        said = [line.split("]: ", 1)[1].strip() for line in answer.splitlines()
                if "[lazyfs.cmds]: " in line]
        return "; ".join(said) or answer.strip().splitlines()[-1]

    def arm_crash(self, op: str, timing: str, path_regex: str) -> str:
        """Make LazyFS kill itself (losing what was not fsynced) at ``op`` on a matching path.

        ``timing``: "before" or "after" the operation; ``op``: a file system call (write,
        fsync, rename, create, unlink...); ``path_regex``: matched against the full path
        in the backing directory. FaultError if LazyFS refuses it.
        """
        answer = self.command(f"lazyfs::crash::timing={timing}::op={op}::from_rgx={path_regex}",
                              ("=> crash: from regex path", "INVALID crash fault"))
        if "INVALID" in answer:
            time.sleep(0.05)  # its reasons follow on lines of their own
            raise FaultError(f"LazyFS refused the crash fault (op={op}, timing={timing}, "
                             f"from_rgx={path_regex}):\n{self._output_tail()}")
        return answer

    def checkpoint(self) -> str:
        """Write every cached byte to the backing directory (without fsync)."""
        return self.command("lazyfs::cache-checkpoint", "checkpoint is done.")

    def cache_usage(self) -> str:
        """LazyFS's cache usage, as the percentage of its pages in use."""
        return self.command("lazyfs::display-cache-usage", "cache usage")

    def unsynced_report(self) -> str:
        """Which inodes hold data not fsynced, and how many bytes in all."""
        return self.command("lazyfs::unsynced-data-report",
                            ("all data blocks are synced", "total number of bytes un-fsynced"))

    def unmount(self) -> None:
        """Unmount (lazily if busy) and stop LazyFS; never leaves a mount or process behind."""
        errors = []
        if self.mountpoint is not None and is_mounted(self.mountpoint):
            try:
                unmount(self.mountpoint, fuse=True)
            except StackError as exc:
                errors.append(str(exc))
        if self._process is not None:
            # after fusermount3 -u LazyFS leaves its loop by itself; after a lazy unmount it
            # waits for the last open file: it is stopped, which aborts the connection
            if self._process.wait(2.0) is None:
                self._process.stop(signal.SIGTERM, grace_s=5.0)
            self._process = None
        if self.mountpoint is not None and is_mounted(self.mountpoint):
            try:
                unmount(self.mountpoint, fuse=True)
            except StackError as exc:
                errors.append(str(exc))
        if self._completed_fd is not None:
            os.close(self._completed_fd)
            self._completed_fd = None
        for fifo in (self.fifo_path, self.completed_fifo_path):
            if fifo.exists() and stat.S_ISFIFO(fifo.lstat().st_mode):
                fifo.unlink()
        if errors:
            raise StackError("; ".join(errors))

    def __enter__(self) -> LazyFS:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.unmount()
