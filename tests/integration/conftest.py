"""Integration tests run real PostgreSQL and Redis servers as local processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


def drill_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
              **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run the real ``drill`` command, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "drills.cli", *args], cwd=REPO, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, **(env or {})}, check=False, **kwargs,  # type: ignore[arg-type]
    )


def wait_until(what: str, check: Callable[[], object], timeout_s: float) -> float:
    """Poll ``check()`` until truthy, instead of a fixed sleep; the seconds it took.

    Fails naming ``what`` after ``timeout_s``: a bound for a broken run, never the wait.
    """
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout_s:
            raise AssertionError(f"{what}: not after {timeout_s} s")
        time.sleep(0.05)
    return time.monotonic() - began


def chromium() -> str:
    """The browser that opens the report as a person would; missing, a failure, never a skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed: scripts/setup.sh installs it (Debian: chromium)"
    return found


def processes_in(directory: Path) -> list[str]:
    """Command lines of live processes whose working directory is under ``directory``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.is_relative_to(directory):
            found.append(f"{entry.name}: {cmdline}")
    return found


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if text in cmdline and state != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return found


def labelled(run_id: str) -> list[str]:
    """Containers and volumes carrying the run's label."""
    from drills.stack import engine

    docker = engine.client()
    try:
        label = {"label": f"{engine.RUN_LABEL}={run_id}"}
        return [c.name for c in docker.containers.list(all=True, filters=label)] + \
               [v.name for v in docker.volumes.list(filters=label)]
    finally:
        docker.close()
