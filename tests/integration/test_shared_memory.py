"""A killed local PostgreSQL leaves no shared memory behind: not at the end of the drill, not
when its data is lost, not after a crashed run once `drill clean` ran.

Before issue 19 every such drill left a System V segment and two /dev/shm/PostgreSQL.*
files until the machine restarted. Other PostgreSQL servers may run on this machine: the
tests look only at what their own server made.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drills.kinds.postgres.settings import PostgresSettings
from drills.runtime.local import LocalRuntime
from drills.stack.process import descendants
from drills.stack.stack import Stack
from tests.integration.conftest import REPO, drill_cli

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Segment:
    shmid: int
    key: int
    cpid: int
    nattch: int


def segments() -> dict[int, Segment]:
    """/proc/sysvipc/shm, read here as the kernel writes it (not by the code under test)."""
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()
    columns = lines[0].split()
    rows = [dict(zip(columns, map(int, line.split()), strict=False)) for line in lines[1:]]
    return {r["shmid"]: Segment(r["shmid"], r["key"], r["cpid"], r["nattch"]) for r in rows}


def memory_of(pid: int, data_dir: Path) -> tuple[Segment, set[Path]]:
    """The System V segment and the /dev/shm files of a running server (pid: postmaster)."""
    key, shmid = map(int, (data_dir / "postmaster.pid").read_text().splitlines()[6].split())
    segment = segments()[shmid]
    files: set[Path] = set()
    for member in [pid, *descendants(pid)]:
        try:
            maps = Path(f"/proc/{member}/maps").read_text()
        except OSError:
            continue  # a backend that has just exited
        files |= {Path(line.split()[-1]) for line in maps.splitlines()
                  if " /dev/shm/PostgreSQL." in line}
    assert segment.key == key and segment.cpid == pid and files, (segment, files)
    return segment, files


def left(segment: Segment, files: set[Path]) -> list[str]:
    """What is still there of ``segment`` and ``files``."""
    now = segments().get(segment.shmid)
    found = [str(f) for f in sorted(files) if f.exists()]
    if now is not None and (now.key, now.cpid) == (segment.key, segment.cpid):
        found.append(f"System V segment {segment.shmid}")
    return found


def wait_until_detached(segment: Segment, timeout: float = 10.0) -> None:
    """Until the killed server's last process let go of its segment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = segments().get(segment.shmid)
        if now is None or now.nattch == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"segment {segment.shmid} still attached after {timeout} s")


@pytest.fixture
def stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    runtime = LocalRuntime("itest-shm", tmp_path / "logs")
    s = Stack(runtime, runtime.services({"postgres": PostgresSettings()}))
    try:
        s.up()
        yield s
    finally:
        s.close()


def test_a_killed_server_leaves_no_shared_memory_after_the_drill(stack: Stack) -> None:
    pg = stack["postgres"]
    pid = pg.proc.pid  # type: ignore[attr-defined]
    segment, files = memory_of(pid, pg.data_dir)  # type: ignore[attr-defined]
    pg.kill()  # type: ignore[attr-defined]
    assert pg.wait_exit(10)  # type: ignore[attr-defined]
    wait_until_detached(segment)
    assert left(segment, files)  # the leak: PostgreSQL does not remove them itself
    stack.close()
    assert left(segment, files) == []


def test_a_lost_server_takes_its_shared_memory_along(stack: Stack) -> None:
    pg = stack["postgres"]
    segment, files = memory_of(pg.proc.pid, pg.data_dir)  # type: ignore[attr-defined]
    pg.lose_data()  # type: ignore[attr-defined]
    assert left(segment, files) == []  # before: the lock file naming them was gone too


CRASHING_DRILL = """
import sys, time
from pathlib import Path
from drills.kinds.postgres.settings import PostgresSettings
from drills.runtime.local import LocalRuntime
from drills.stack.stack import Stack

runtime = LocalRuntime("itest-shm-crash", Path(sys.argv[1]))
stack = Stack(runtime, runtime.services({"postgres": PostgresSettings()}))
stack.up()
print(stack["postgres"].proc.pid, stack["postgres"].data_dir, flush=True)
time.sleep(600)
"""


@pytest.fixture
def tmp() -> Iterator[Path]:
    """A temporary directory the server's account (postgres, under root) can traverse."""
    path = Path(tempfile.mkdtemp(prefix="itest-shm-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_clean_removes_what_a_crashed_runs_server_left(tmp_path: Path, tmp: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", CRASHING_DRILL, str(tmp_path / "logs")],
                          stdout=subprocess.PIPE, text=True, cwd=REPO,
                          env={**os.environ, "TMPDIR": str(tmp)}) as drill:
        try:
            assert drill.stdout is not None
            pid_text, data_dir = drill.stdout.readline().split()
            segment, files = memory_of(int(pid_text), Path(data_dir))
        finally:
            drill.send_signal(signal.SIGKILL)  # the drill dies; its server too (PDEATHSIG)
    wait_until_detached(segment)
    assert left(segment, files)
    done = drill_cli("clean", env={"TMPDIR": str(tmp), "DOCKER_HOST": f"unix://{tmp}/none"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"removed System V segment {segment.shmid} (key {segment.key})" in done.stdout
    assert left(segment, files) == []
    assert list(tmp.iterdir()) == []
