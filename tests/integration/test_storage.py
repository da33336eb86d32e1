"""The storage faults' file systems, for real: LazyFS forgets what was not fsynced, LoopFS fills.

No mocks: LazyFS (built by scripts/setup.sh) is mounted through FUSE and ext4 is loop-mounted,
so these need root, /dev/fuse and loop devices; where they are missing each test is skipped
with the reason ``available()`` gives.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drills.errors import FaultError
from drills.stack.storage import lazyfs, loopfs
from drills.stack.storage.lazyfs import LazyFS, SplitWrite
from drills.stack.storage.loopfs import LoopFS
from drills.stack.storage.mounts import LeftoverKind, clean, is_mounted, leftovers, loop_devices

pytestmark = pytest.mark.slow

MiB = 1 << 20
RecordProperty = Callable[[str, object], None]


def _need(reason: str | None) -> None:
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    clean(tmp_path)  # whatever a failing test left mounted


def _write(path: Path, data: bytes, fsync: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, data)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_lazyfs_keeps_fsynced_writes_and_drops_the_rest(
        run_dir: Path, record_property: RecordProperty) -> None:
    _need(lazyfs.available())
    fs = LazyFS(run_dir / "lazyfs", cache_mib=64)
    mnt, root = run_dir / "mnt", run_dir / "root"
    started = time.monotonic()
    fs.mount(mnt, root)
    mount_s = time.monotonic() - started
    pid = fs.pid
    assert pid is not None
    try:
        assert is_mounted(mnt)
        synced, unsynced, tail = os.urandom(MiB), os.urandom(MiB), os.urandom(100_000)
        _write(mnt / "synced.bin", synced, fsync=True)
        _write(mnt / "synced.bin", tail, fsync=False)  # appended after the fsync
        _write(mnt / "unsynced.bin", unsynced, fsync=False)
        # before the power cut the cache answers: everything reads back
        assert (mnt / "synced.bin").read_bytes() == synced + tail
        assert (mnt / "unsynced.bin").read_bytes() == unsynced
        assert (root / "unsynced.bin").stat().st_size == 0  # only the create reached disk

        started = time.monotonic()
        answer = fs.clear_cache()
        clear_s = time.monotonic() - started

        assert "received 'lazyfs::clear-cache'" in answer
        assert "cache is cleared." in answer
        assert answer.endswith("finished::clear-cache")
        assert (mnt / "synced.bin").read_bytes() == synced
        assert (mnt / "unsynced.bin").read_bytes() == b""
        assert (root / "synced.bin").read_bytes() == synced
        usage = fs.cache_usage()
        assert "cache usage" in usage
    finally:
        fs.unmount()
    assert not is_mounted(mnt)
    assert leftovers(run_dir) == []
    assert not _alive(pid)
    assert not fs.fifo_path.exists()
    for name, value in (("lazyfs_version", fs.version), ("mount_s", f"{mount_s:.3f}"),
                        ("clear_cache_s", f"{clear_s:.4f}"),
                        ("lost_bytes", str(len(tail) + len(unsynced))), ("answer", answer)):
        record_property(name, value)
    print(f"\nLazyFS {fs.version}: mounted in {mount_s:.3f} s, clear-cache in {clear_s:.4f} s, "
          f"{len(tail) + len(unsynced)} un-fsynced bytes dropped, {len(synced)} fsynced kept;"
          f" answer:\n{answer}")


def test_lazyfs_unmount_while_a_file_is_open_leaves_nothing(run_dir: Path) -> None:
    _need(lazyfs.available())
    fs = LazyFS(run_dir / "lazyfs", cache_mib=16)
    mnt = run_dir / "mnt"
    fs.mount(mnt, run_dir / "root")
    pid = fs.pid
    assert pid is not None
    busy = open(mnt / "held", "wb")  # noqa: SIM115 (held open across the unmount on purpose)
    try:
        fs.unmount()  # fusermount3 -u fails (busy): a lazy unmount, then LazyFS is stopped
        assert not is_mounted(mnt)
        assert not _alive(pid)
    finally:
        try:
            busy.close()
        except OSError:
            pass  # the connection was aborted under it
    assert leftovers(run_dir) == []


def test_lazyfs_refuses_its_files_inside_the_mount(run_dir: Path) -> None:
    _need(lazyfs.available())
    fs = LazyFS(run_dir / "mnt" / "lazyfs")
    with pytest.raises(Exception, match="off the mount"):
        fs.mount(run_dir / "mnt", run_dir / "root")
    assert leftovers(run_dir) == []


def test_clean_takes_down_what_a_killed_run_left(run_dir: Path) -> None:
    _need(lazyfs.available() or loopfs.available())
    fs = LazyFS(run_dir / "lazyfs", cache_mib=16)
    fs.mount(run_dir / "mnt", run_dir / "root")
    assert fs.pid is not None
    os.kill(fs.pid, signal.SIGKILL)  # as when the drill dies: a stale FUSE mount stays
    loop = LoopFS.create(run_dir / "disk.img", 16 * MiB, run_dir / "disk")
    found = leftovers(run_dir)
    assert {f.kind for f in found} >= {LeftoverKind.LAZYFS, LeftoverKind.LOOP_MOUNT}
    assert any(f.device == loop.device for f in found)

    gone = clean(run_dir)

    assert {f.kind for f in gone} >= {LeftoverKind.LAZYFS, LeftoverKind.LOOP_MOUNT}
    assert leftovers(run_dir) == []
    assert not is_mounted(run_dir / "mnt") and not is_mounted(run_dir / "disk")
    assert loop.device not in loop_devices()
    fs.unmount()  # its own teardown after the fact: nothing left to do, no error


def test_loopfs_fills_until_enospc_and_frees(
        run_dir: Path, record_property: RecordProperty) -> None:
    _need(loopfs.available())
    fs = LoopFS.create(run_dir / "disk.img", 16 * MiB, run_dir / "disk")
    device = fs.device
    try:
        assert device.startswith("/dev/loop")
        assert is_mounted(fs.mountpoint)
        before = fs.free_bytes()
        assert 8 * MiB < before < 16 * MiB

        written = fs.fill()

        assert fs.free_bytes() == 0
        with pytest.raises(OSError) as full:
            _write(fs.mountpoint / "one-more", b"x" * 4096, fsync=True)
        assert full.value.errno == errno.ENOSPC
        (fs.mountpoint / "one-more").unlink(missing_ok=True)
        assert before - 64 * 1024 <= written <= before

        freed = fs.free()

        assert freed == written
        assert fs.free_bytes() >= before - 64 * 1024
        _write(fs.mountpoint / "after", b"y" * 4096, fsync=True)
        record_property("free_before", before)
        record_property("filled", written)
        print(f"\n16 MiB ext4: {before} bytes free, filled {written}, freed {freed}")
    finally:
        fs.unmount()
    assert not is_mounted(run_dir / "disk")
    assert device not in loop_devices()
    attached = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=True)
    assert str(run_dir) not in attached.stdout
    assert not (run_dir / "disk.img").exists()
    assert leftovers(run_dir) == []


def test_loopfs_fill_can_leave_room(run_dir: Path) -> None:
    _need(loopfs.available())
    with LoopFS.create(run_dir / "disk.img", 16 * MiB, run_dir / "disk") as fs:
        fs.fill(leave_bytes=MiB)
        assert MiB - 64 * 1024 <= fs.free_bytes() <= MiB + 64 * 1024
    assert leftovers(run_dir) == []


def test_lazyfs_split_write_tears_a_write_and_crashes(run_dir: Path) -> None:
    _need(lazyfs.available())
    root = (run_dir / "root").resolve()
    torn = SplitWrite(root / "torn.bin", occurrence=2, parts_bytes=(4096, 4096), persist=(1,))
    fs = LazyFS(run_dir / "lazyfs", cache_mib=16, injections=[torn])
    mnt = run_dir / "mnt"
    fs.mount(mnt, root)
    first, second = os.urandom(8192), os.urandom(8192)
    try:
        _write(mnt / "torn.bin", first, fsync=True)
        with pytest.raises(OSError):  # LazyFS killed itself before answering
            _write(mnt / "torn.bin", second, fsync=False)
        assert fs.wait_exited(5.0) == -signal.SIGKILL
        assert not fs.running
        # the first write whole, then the first 4096 bytes of the second: a torn write
        assert (root / "torn.bin").read_bytes() == first + second[:4096]
    finally:
        fs.unmount()
    assert leftovers(run_dir) == []


def test_lazyfs_crash_fault_kills_it_at_the_operation(run_dir: Path) -> None:
    _need(lazyfs.available())
    fs = LazyFS(run_dir / "lazyfs", cache_mib=16)
    mnt, root = run_dir / "mnt", run_dir / "root"
    fs.mount(mnt, root)
    try:
        _write(mnt / "a.bin", b"kept", fsync=True)
        _write(mnt / "a.bin", b" lost", fsync=False)
        with pytest.raises(FaultError, match="refused"):
            fs.arm_crash("nosuchcall", "before", "a\\.bin")
        answer = fs.arm_crash("fsync", "before", "a\\.bin")
        assert "VALID crash fault" in fs.log_path.read_text()
        assert "from regex path = a\\.bin" in answer
        assert fs.running
        with pytest.raises(OSError):
            _write(mnt / "a.bin", b"", fsync=True)
        assert fs.wait_exited(5.0) == -signal.SIGKILL
        assert not fs.running
        assert (root / "a.bin").read_bytes() == b"kept"
    finally:
        fs.unmount()
    assert leftovers(run_dir) == []
