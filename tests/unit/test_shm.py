"""What a dead PostgreSQL server left in shared memory, and the proof that it is the run's.

The records are as PostgreSQL 15 writes them (a killed server's postmaster.pid, its
System V header, its DSM control segment); the real thing: tests/integration.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from drills.stack import shm
from drills.stack.workdir import PROCESSES_FILE

PID, KEY, SHMID, UID = 13423, 9979997, 4, os.geteuid()
TABLE = f"""\
       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
   {KEY}          {SHMID}   600                    56 {PID} {PID}      0   {UID}   104   {UID}   104 1796533175 1796533181 1796533175                  4096                     0
   5432001          7   600                    56  999  999      2   {UID}   104   {UID}   104 1796533175 1796533181 1796533175                  4096                     0
"""  # noqa: E501 - the kernel's own layout
CONTROL, STATS = 1336582168, 3266583150


def lock_file_text(pid: int = PID, shmid: int = SHMID) -> str:
    return (f"{pid}\n/tmp/x/data\n1796533175\n25432\n/tmp/x\n127.0.0.1\n"
            f"  {KEY}     {shmid}\nready   \n")


def header(data_dir: Path, pid: int = PID, magic: int = 679834894) -> bytes:
    st = data_dir.stat()
    return struct.pack("@iiNNIPLL", magic, pid, 149520384, 56, CONTROL, 0, st.st_dev,
                       st.st_ino)


def control_segment(items: list[tuple[int, int]], maxitems: int = 674) -> bytes:
    data = bytearray(16 + 40 * maxitems)
    struct.pack_into("@III", data, 0, 0x9A503D32, len(items), maxitems)
    for i, (handle, refcnt) in enumerate(items):
        struct.pack_into("@II", data, 16 + 40 * i, handle, refcnt)
    return bytes(data)


def test_the_records_are_read_as_postgresql_writes_them() -> None:
    assert shm.parse_lock_file(lock_file_text()) == (PID, KEY, SHMID)
    assert shm.parse_lock_file("13423\n/tmp/x/data\n") is None  # still starting
    table = shm.parse_sysv_table(TABLE)
    assert table[SHMID] == shm.Segment(KEY, SHMID, 56, PID, 0, UID)
    assert table[7].nattch == 2
    assert shm.control_handles(control_segment([(STATS, 4), (123, 0)])) == [STATS]
    assert shm.control_handles(b"\0" * 64) is None  # not a control segment
    pre14 = bytearray(16 + 24 * 10)  # PostgreSQL 13 and older: 24-byte items
    struct.pack_into("@IIIxxxxII", pre14, 0, 0x9A503D32, 1, 10, 77, 2)
    assert shm.control_handles(bytes(pre14)) == [77]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run's directory with a killed server's data directory, and its DSM files."""
    workdir = tmp_path / "drills-r-abc"
    data = workdir / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "postmaster.pid").write_text(lock_file_text())
    (workdir / PROCESSES_FILE).write_text(json.dumps({"name": "postgres", "pid": PID,
                                                      "start": 55}) + "\n")
    dsm = tmp_path / "dev-shm"
    dsm.mkdir()
    (dsm / f"PostgreSQL.{CONTROL}").write_bytes(control_segment([(STATS, 4)]))
    (dsm / f"PostgreSQL.{STATS}").write_bytes(b"\0" * 64)
    (dsm / "PostgreSQL.42").write_bytes(b"another server's")
    monkeypatch.setattr(shm, "DSM_DIR", dsm)
    monkeypatch.setattr(shm, "_gone", lambda pid, start: pid == PID and start == 55)
    monkeypatch.setattr(shm, "read_header", lambda shmid: shm.parse_header(header(data)))
    return workdir


def _examine(workdir: Path, table: str = TABLE) -> shm.Leftover | str | None:
    lock = workdir / "postgres" / "data" / "postmaster.pid"
    return shm.examine(lock, shm.recorded_servers(workdir), shm.parse_sysv_table(table))


def test_a_dead_servers_segment_and_files_are_proven_the_runs(run: Path) -> None:
    found = _examine(run)
    assert isinstance(found, shm.Leftover)
    assert found.segment.shmid == SHMID and found.server == "postgres"
    assert [p.name for p in found.files] == [f"PostgreSQL.{STATS}", f"PostgreSQL.{CONTROL}"]


def test_anything_short_of_proof_is_kept(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = run / "postgres" / "data"
    # a pid the run never started
    (data / "postmaster.pid").write_text(lock_file_text(pid=777))
    assert "pid 777 is not a server this run started" in str(_examine(run))
    (data / "postmaster.pid").write_text(lock_file_text())
    # the server still runs
    monkeypatch.setattr(shm, "_gone", lambda pid, start: False)
    assert _examine(run) is None
    monkeypatch.setattr(shm, "_gone", lambda pid, start: True)
    # the id now belongs to a segment another process created
    assert _examine(run, TABLE.replace(f" {PID} {PID} ", " 31337 31337 ", 1)) is None
    # somebody is still attached
    assert "2 process(es) still attached" in str(
        _examine(run, TABLE.replace(f"{PID} {PID}      0", f"{PID} {PID}      2", 1)))
    # the header names another data directory
    other = run / "elsewhere"
    other.mkdir()
    monkeypatch.setattr(shm, "read_header", lambda shmid: shm.parse_header(header(other)))
    assert "its header does not name" in str(_examine(run))
    monkeypatch.setattr(shm, "read_header", lambda shmid: shm.parse_header(header(data,
                                                                                  magic=1)))
    assert "its header does not name" in str(_examine(run))


def test_a_file_of_another_owner_is_never_listed(run: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")
    os.chown(shm.DSM_DIR / f"PostgreSQL.{STATS}", 65534, 65534)
    found = _examine(run)
    assert isinstance(found, shm.Leftover)
    assert [p.name for p in found.files] == [f"PostgreSQL.{CONTROL}"]
