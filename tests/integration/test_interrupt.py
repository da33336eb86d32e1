"""Ctrl-C (SIGINT to the foreground process group) or SIGTERM mid-drill leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, labelled, processes_in, processes_mentioning

pytestmark = pytest.mark.slow

WARM = "ok/s"  # a progress line of the warm-up: servers and load are up
#: the second recovery step (WAL replay) starting: the base backup was copied into new data
RESTORING = "postgres-restore-wal: recovery"


@pytest.mark.parametrize(("runtime", "sig", "scenario", "when"), [
    ("local", signal.SIGINT, "postgres-kill", WARM),
    ("local", signal.SIGTERM, "postgres-kill", WARM),
    pytest.param("compose", signal.SIGINT, "postgres-kill", WARM, marks=pytest.mark.compose),
    # mid-restore: a backup directory, a replaced data directory or volume, and on compose
    # the throwaway container that copies the backup in, all go
    ("local", signal.SIGINT, "postgres-restore-wal", RESTORING),
    pytest.param("compose", signal.SIGINT, "postgres-restore-wal", RESTORING,
                 marks=pytest.mark.compose),
    # the full stack: Toxiproxy (and its proxies) and the app go too
    ("local", signal.SIGINT, "app-postgres-latency", WARM),
    pytest.param("compose", signal.SIGINT, "app-postgres-latency", WARM,
                 marks=pytest.mark.compose),
])
def test_interrupt_mid_drill_cleans_up(runtime: str, sig: signal.Signals, scenario: str,
                                       when: str, tmp_path: Path) -> None:
    run_id = f"itest-interrupt-{runtime}-{sig.name.lower()}-{scenario}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drills.cli", "run", "--scenario", scenario,
         "--runtime", runtime, "--out", str(tmp_path), "--run-id", run_id],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group, like a shell job
    )
    assert proc.stdout is not None
    started_in_workdir: list[str] = []  # toxiproxy and the app run in the run's directory
    try:
        seen: list[str] = []
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            seen.append(line)
            if when == WARM and "warm-up" in line and WARM in line:
                break
            if when != WARM and sum(1 for ln in seen if ln.strip() == when) == 2:
                break
            assert time.monotonic() < deadline, "".join(seen)
        else:
            pytest.fail("the drill ended before its warm-up:\n" + "".join(seen))
        workdir = list(Path(tempfile.gettempdir()).glob(f"drills-{run_id}-*"))
        if when == RESTORING:  # the server is down while its data is replaced
            assert [w for w in workdir if (w / "backups" / "postgres").is_dir()], workdir
        if runtime == "local" and when == WARM:
            assert processes_mentioning(f"drills-{run_id}-"), "no server was running to interrupt"
        if runtime == "local" and scenario.startswith("app-"):
            started_in_workdir = processes_in(workdir[0])
            assert len(started_in_workdir) >= 2, started_in_workdir
        elif runtime == "compose":  # mid-restore: the new data volume, made by drills
            assert labelled(run_id), "no container or volume of the run to clean up"
        assert processes_mentioning("locust_child"), "no load generator was running"
        os.killpg(proc.pid, sig)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # a failed assertion above: still tear the drill down
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        proc.stdout.close()
    assert proc.returncode == 130, "".join(seen) + rest
    assert processes_mentioning(f"drills-{run_id}-") == []
    assert processes_mentioning(str(tmp_path / run_id)) == []  # the Locust child
    assert [p for p in started_in_workdir if Path(f"/proc/{p.split(':')[0]}").exists()] == []
    assert list(Path(tempfile.gettempdir()).glob(f"drills-{run_id}-*")) == []
    if runtime == "compose":
        assert labelled(run_id) == []
