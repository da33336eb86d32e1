"""``drill clean``: remove what crashed runs left behind, and nothing else.

Every run owns one directory, ``<tmp>/drills-<run id>-*``, holding an ``owner.json``
with the pid of the drill process, and labels every container and volume it creates
with ``io.drills.run-id`` and ``io.drills.owner-pid``. When the owner process is gone,
the run crashed: its servers (found by their command line naming that directory), its
directory, and its labelled containers and volumes are removed. Live runs, unlabelled
containers and directories without an owner record are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from drills.stack.workdir import OWNER_FILE, WORKDIR_PREFIX


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rfind(")") + 2 :].split()[0]
    except (OSError, IndexError):
        return "?"


def processes_using(directory: Path) -> list[int]:
    """Pids whose command line names ``directory`` (our servers: -D DIR, DIR/redis.conf)."""
    needle = str(directory).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def clean_local(tmp: Path | None = None, dry_run: bool = False) -> Iterator[str]:
    """Yield one line per thing removed (or that would be)."""
    root = tmp or Path(tempfile.gettempdir())
    found = False
    for workdir in sorted(root.glob(f"{WORKDIR_PREFIX}*")):
        owner_file = workdir / OWNER_FILE
        if not owner_file.is_file():
            continue  # not made by drills: never touch it
        try:
            owner = json.loads(owner_file.read_text())
            pid = int(owner["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            yield f"skipped {workdir}: unreadable {OWNER_FILE}"
            continue
        if _alive(pid):
            yield f"kept {workdir}: run {owner.get('run_id')} is still running (pid {pid})"
            continue
        found = True
        for server in processes_using(workdir):
            yield f"{'would kill' if dry_run else 'killed'} pid {server} (server of {workdir})"
            if not dry_run:
                try:
                    os.kill(server, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        yield f"{'would remove' if dry_run else 'removed'} {workdir}"
        if not dry_run:
            shutil.rmtree(workdir, ignore_errors=True)
    if not found:
        yield "local: nothing to clean"


def clean_docker(dry_run: bool = False) -> Iterator[str]:
    """Remove containers and volumes of crashed runs, found by label; nothing else."""
    from drills.errors import StackError
    from drills.stack.engine import RUN_LABEL, client

    try:
        docker_client = client(timeout=5)
    except StackError:
        yield "docker: no engine answers; nothing to clean there"
        return
    verb = "would remove" if dry_run else "removed"
    found = False
    try:
        for container in docker_client.containers.list(all=True, filters={"label": RUN_LABEL}):
            if _owner_alive(container.labels):
                continue
            found = True
            if not dry_run:
                container.remove(force=True, v=True)
            yield f"{verb} container {container.name} (run {container.labels[RUN_LABEL]})"
        for volume in docker_client.volumes.list(filters={"label": RUN_LABEL}):
            labels = volume.attrs.get("Labels") or {}
            if _owner_alive(labels):
                continue
            found = True
            if not dry_run:
                volume.remove(force=True)
            yield f"{verb} volume {volume.name} (run {labels[RUN_LABEL]})"
    finally:
        docker_client.close()
    if not found:
        yield "docker: nothing to clean"


def _owner_alive(labels: dict[str, str]) -> bool:
    from drills.stack.engine import OWNER_LABEL

    try:
        return _alive(int(labels.get(OWNER_LABEL, "0")))
    except ValueError:
        return False
