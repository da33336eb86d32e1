"""The per-run working directory: ``<tmp>/drills-<run id>-*``, with an owner record.

``owner.json`` identifies the drill process (drills.stack.ownership); ``processes.jsonl`` gets
one line per server process started, with its pid and start time. ``drill clean``
removes a directory, and stops the processes listed in it that are still the same
processes, only when the directory is this user's and its owner is proven dead.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from drills.stack.ownership import Owner, process_start_ticks

WORKDIR_PREFIX = "drills-"
OWNER_FILE = "owner.json"
PROCESSES_FILE = "processes.jsonl"


def make_workdir(run_id: str, runtime: str) -> Path:
    workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{run_id}-"))
    # local servers may run as another account (postgres): let them traverse, not list
    workdir.chmod(0o711)
    record = {"run_id": run_id, "runtime": runtime, "created": time.time(),
              "owner": Owner.current().to_dict()}
    write_private(workdir / OWNER_FILE, json.dumps(record) + "\n")
    return workdir


def record_process(workdir: Path, name: str, pid: int, **extra: str) -> int | None:
    """Note a process this run started, so that a later clean-up can prove it ours.

    ``extra``: a procedure's ``kind`` ("procedure") and the ``mark`` its processes carry
    (drills.procedures.leftovers). Returns the start time recorded (None: already gone).
    """
    start = process_start_ticks(pid)
    if start is None:
        return None  # already gone: nothing to clean later
    line = json.dumps({"name": name, "pid": pid, "start": start, **extra}) + "\n"
    fd = os.open(workdir / PROCESSES_FILE,
                 os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    return start


def write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only (0600), never over an existing file or link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
