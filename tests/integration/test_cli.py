"""The drill command's contract: exit codes, messages, and `drill clean`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import drill_cli, processes_mentioning


def test_typo_in_plan_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("scenarios:\n  postgres-kill:\n    targets: {rto: 30s, rpo_ms: 0}\n")
    done = drill_cli("run", "--plan", str(plan), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert f"{plan}: scenarios.postgres-kill.targets.rpo_ms: unknown key" in done.stderr
    assert not (tmp_path / "out").exists()  # nothing started


def test_unknown_scenario_exits_2(tmp_path: Path) -> None:
    done = drill_cli("run", "--scenario", "postgres-kil", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "scenarios.postgres-kil" in done.stderr and "postgres-kill" in done.stderr


def test_clean_removes_only_crashed_runs(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    crashed = tmp_path / "drills-crashed-abc"
    crashed.mkdir()
    (crashed / "owner.json").write_text(json.dumps({"pid": dead.pid, "run_id": "crashed"}))
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                               str(crashed / "data")])
    live = tmp_path / "drills-live-abc"
    live.mkdir()
    (live / "owner.json").write_text(json.dumps({"pid": os.getpid(), "run_id": "live"}))
    foreign = tmp_path / "drills-not-ours"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("user data")
    try:
        done = drill_cli("clean", env={"TMPDIR": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        assert server.wait(5) == -9
        assert not crashed.exists()
        assert live.exists()
        assert (foreign / "precious.txt").read_text() == "user data"
        assert processes_mentioning(str(crashed)) == []
    finally:
        server.kill()
        server.wait()


@pytest.mark.compose
def test_clean_removes_labelled_leftovers_and_leaves_other_containers(tmp_path: Path) -> None:
    from drills.stack import engine

    docker = engine.client()
    dead = subprocess.Popen(["true"])
    dead.wait()
    image = engine.image_for("redis")
    theirs = docker.containers.create(image, ["redis-server", "--port", "0"],
                                      name="not-drills-itest", network_mode="none")
    ours = docker.containers.create(
        image, ["redis-server", "--port", "0"], name="drills-crashed-itest",
        network_mode="none", labels={engine.RUN_LABEL: "crashed-itest",
                                     engine.OWNER_LABEL: str(dead.pid)})
    volume = docker.volumes.create("drills-crashed-itest-data", labels={
        engine.RUN_LABEL: "crashed-itest", engine.OWNER_LABEL: str(dead.pid)})
    try:
        done = drill_cli("clean", env={"TMPDIR": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        names = {c.name for c in docker.containers.list(all=True)}
        assert "drills-crashed-itest" not in names
        assert "not-drills-itest" in names
        assert volume.name not in {v.name for v in docker.volumes.list()}
        assert "removed container drills-crashed-itest" in done.stdout
    finally:
        theirs.remove(force=True, v=True)
        for leftover in (ours,):
            try:
                leftover.remove(force=True, v=True)
            except Exception:
                pass
        docker.close()
