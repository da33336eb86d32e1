"""Issue 21 items 4 and 5: no password at rest or in the load generator's environment;
after ``kill -9`` of ``drill``, no password in its files and no orphan.

A version 2 plan on drills' own PostgreSQL (local runtime): its setup procedure prints the
service's password, starts a child that leaves its process group and session (setsid), and
waits. The drill is killed with SIGKILL while the procedure runs. Before: the procedure's
log (0644) held the cleartext password, and the setsid child outlived the drill and
``drill clean``. Now: the log never held it, every file of the run is 0600 in 0700
directories, and ``drill clean`` ends the child and says so.

The load generator (the Locust child) used to get its endpoint, password included, in its
environment, which every process of the user can read in /proc/PID/environ.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from drills.procedures import leftovers
from drills.stack.ownership import process_start_ticks, process_state
from tests.integration.conftest import REPO, drill_cli, processes_mentioning

pytestmark = pytest.mark.slow

PLAN = """version: 2
name: a procedure that leaves a child behind
stack:
  services:
    db: {kind: postgres}
  setup: [seed]
procedures:
  seed:
    run: [scripts/seed.sh]
    env: {TEAM: "__TEAM__"}
    timeout: 5m
targets:
  db: {rto: 30m}
scenarios:
  crash:
    fault: {kill: db}
    checks:
      - ledger: db
"""
SEED = """#!/bin/sh
echo "seeding with $DRILL_DB_PASSWORD"
echo "dsn postgresql://drills:$DRILL_DB_PASSWORD@127.0.0.1/drills"
printf '%s' "$DRILL_DB_PASSWORD" > "$TEAM/password"
setsid sleep 300 &
echo $! > "$TEAM/child.pid"
echo seeded
sleep 300
"""


def _alive(pid: int, start: int | None) -> bool:
    return (start is not None and process_start_ticks(pid) == start
            and process_state(pid) != "Z")


def _wait_for(what: str, predicate: Callable[[], bool], timeout: float,
              proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout is not None else ""
            raise AssertionError(f"the drill ended before {what}:\n{output}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_kill_9_of_drill_leaves_no_password_and_clean_ends_the_procedures_child(
        tmp_path: Path) -> None:
    team = tmp_path / "team"
    (team / "scripts").mkdir(parents=True)
    seed = team / "scripts" / "seed.sh"
    seed.write_text(SEED)
    seed.chmod(0o755)
    plan = team / "plan.yaml"
    plan.write_text(PLAN.replace("__TEAM__", str(team)))
    # the run's working directory in a tmp of its own: drill clean looks nowhere else
    tmp = Path(tempfile.mkdtemp(prefix="itest21-"))
    tmp.chmod(0o755)  # a local server running as another account traverses it
    out = tmp_path / "out"
    run_id = f"itest-orphan-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "drills.cli", "run", "--plan", str(plan), "--runtime", "local",
         "--out", str(out), "--run-id", run_id],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True)
    child = 0
    child_start = None
    try:
        pidfile = team / "child.pid"
        _wait_for("the procedure started its child",
                  lambda: pidfile.exists() and pidfile.read_text().strip().isdigit(), 180, proc)
        child = int(pidfile.read_text())
        child_start = process_start_ticks(child)
        _wait_for("the child left the group", lambda: (s := leftovers.stat(child)) is not None
                  and s.sid == child, 10, proc)
        _wait_for("the procedure's output", lambda: any(
            "seeded" in p.read_text() for p in out.glob(f"{run_id}/*/logs/procedure-*.log")),
            30, proc)
        password = (team / "password").read_text()
        assert password
        logs = list(out.glob(f"{run_id}/*/logs/procedure-*.log"))
        # while it runs: the log never holds it
        assert all(password not in p.read_text() for p in logs), logs
        os.kill(proc.pid, signal.SIGKILL)  # the drill only: what it started is on its own
        proc.wait(30)
        time.sleep(1)  # the servers and the procedure's shell die with their parent
        assert _alive(child, child_start), "the setsid child should have survived the crash"
        run_dir = out / run_id
        for top, dirs, names in os.walk(run_dir):
            for name in dirs:
                assert stat.S_IMODE((Path(top) / name).stat().st_mode) == 0o700, name
            for name in names:
                path = Path(top) / name
                assert password not in path.read_bytes().decode(errors="replace"), path
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
        done = drill_cli("clean", env={"TMPDIR": str(tmp)}, timeout=120)
        said = done.stdout + done.stderr
        assert done.returncode == 0, said
        assert not _alive(child, child_start), said
        assert f"pid {child} (sleep 300)" in said and "procedure seed" in said, said
        assert list(tmp.glob(f"drills-{run_id}-*")) == [], said
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if child and _alive(child, child_start):
            os.kill(child, signal.SIGKILL)
        if proc.stdout is not None:
            proc.stdout.close()
        drill_cli("clean", env={"TMPDIR": str(tmp)}, timeout=120)
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


def test_the_load_generators_environment_holds_no_password(tmp_path: Path) -> None:
    run_id = f"itest-load-env-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drills.cli", "run", "--scenario", "postgres-kill",
         "--runtime", "local", "--out", str(tmp_path), "--run-id", run_id],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    assert proc.stdout is not None
    try:
        seen: list[str] = []
        for line in proc.stdout:
            seen.append(line)
            if "warm-up" in line and "ok/s" in line:
                break
        else:
            raise AssertionError("the drill ended before its warm-up:\n" + "".join(seen))
        children = [int(p.split(":")[0]) for p in processes_mentioning(str(tmp_path / run_id))
                    if "locust_child" in p]
        assert children, "no load generator was running"
        for pid in children:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert b"DRILLS_ENDPOINT" not in environ and b'"password"' not in environ
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
