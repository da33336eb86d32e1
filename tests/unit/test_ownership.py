"""Owner identity: what `drill clean` needs to prove before it removes anything."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drills.cleanup import _private
from drills.stack.ownership import Owner, OwnerState, process_start_ticks


def child_owner(pid: int) -> Owner | None:
    """The identity of a process this test started, as a drill would record its own."""
    start = process_start_ticks(pid)
    return None if start is None else dataclasses.replace(Owner.current(), pid=pid, start=start)


def test_this_process_is_alive() -> None:
    me = Owner.current()
    assert me.pid == os.getpid() and me.start > 0
    assert me.status()[0] == OwnerState.ALIVE


def test_an_exited_process_is_dead_and_a_recycled_pid_too() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = child_owner(child.pid)
    assert owner is not None and owner.status()[0] == OwnerState.ALIVE
    assert dataclasses.replace(owner, start=owner.start + 1).status()[0] == OwnerState.DEAD
    child.kill()
    child.wait()
    state, why = owner.status()
    assert state == OwnerState.DEAD and "has exited" in why


@pytest.mark.parametrize(("change", "state", "why"), [
    ({"host": "another-machine"}, OwnerState.UNKNOWN, "another machine"),
    ({"pidns": "pid:[1]"}, OwnerState.UNKNOWN, "another pid namespace"),
    ({"boot": "an-earlier-boot"}, OwnerState.DEAD, "restarted"),
])
def test_what_cannot_be_checked_from_here(change: dict[str, str], state: OwnerState,
                                          why: str) -> None:
    found, reason = dataclasses.replace(Owner.current(), **change).status()
    assert found == state and why in reason


@pytest.mark.parametrize("raw", [
    None, "abc", {}, {"pid": 0}, {"pid": 1}, {"pid": "abc"}, {"pid": True}, {"start": 0},
    {"boot": ""}, {"host": None},
])
def test_an_incomplete_record_identifies_nobody(raw: object) -> None:
    full = Owner.current().to_dict()
    if isinstance(raw, dict) and raw:
        raw = {**full, **raw}
    assert Owner.from_dict(raw) is None


def test_labels_round_trip_and_strings_are_read() -> None:
    me = Owner.current()
    assert Owner.from_labels(me.to_labels()) == me
    labels = me.to_labels()
    del labels["io.drills.owner-boot"]
    assert Owner.from_labels(labels) is None


def test_only_private_directories_and_files_of_this_user_are_trusted(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    ours.mkdir(mode=0o711)
    assert _private(ours, directory=True) is None
    ours.chmod(0o775)
    assert "writable by other users" in str(_private(ours, directory=True))
    link = tmp_path / "link"
    link.symlink_to(ours)
    assert "not a directory" in str(_private(link, directory=True))
    record = tmp_path / "owner.json"
    record.write_text("{}")
    record.chmod(0o600)
    assert _private(record, directory=False) is None
    assert "not a regular file" in str(_private(ours, directory=False))
