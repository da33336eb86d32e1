"""`drill clean` acts only on what it can prove a dead drills run created.

Before issue 6 it removed containers whose owner pid was 0, missing or not a number (the
compose file defaulted it to 0, so a stack started by hand went, volumes and all),
SIGKILLed any process whose command line merely contained a crashed run's directory,
and trusted any owner.json in the shared /tmp. Each of those is a case below.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drills.stack.ownership import Owner, process_start_ticks
from drills.stack.workdir import OWNER_FILE, PROCESSES_FILE
from tests.integration.conftest import REPO, drill_cli


def child_owner(pid: int) -> Owner | None:
    """The identity of a process this test started, as a drill would record its own."""
    start = process_start_ticks(pid)
    return None if start is None else dataclasses.replace(Owner.current(), pid=pid, start=start)


def sleeper(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", *argv])


def dead_owner() -> Owner:
    proc = sleeper()
    owner = child_owner(proc.pid)
    proc.kill()
    proc.wait()
    assert owner is not None
    return owner


def workdir(tmp: Path, name: str, owner: Any, mode: int = 0o711) -> Path:
    path = tmp / f"drills-{name}-abc"
    path.mkdir()
    path.chmod(mode)
    record = path / OWNER_FILE
    record.write_text(json.dumps({"run_id": name, "owner": owner}))
    record.chmod(0o600)
    return path


def record_server(directory: Path, proc: subprocess.Popen[bytes], start: int | None = None) -> None:
    owner = child_owner(proc.pid)
    assert owner is not None
    line = {"name": "postgres", "pid": proc.pid, "start": start or owner.start}
    (directory / PROCESSES_FILE).write_text(json.dumps(line) + "\n")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def clean(tmp: Path) -> str:
    done = drill_cli("clean", env={"TMPDIR": str(tmp)})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_crashed_run_goes_with_its_recorded_servers(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    crashed = workdir(tmp_path, "crashed", dead_owner().to_dict())
    server = sleeper(str(crashed / "postgres" / "data"))
    procs.append(server)
    record_server(crashed, server)
    out = clean(tmp_path)
    assert server.wait(5) == -9
    assert not crashed.exists()
    assert f"removed {crashed}" in out


def test_a_process_only_mentioning_the_directory_is_left_alone(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    crashed = workdir(tmp_path, "crashed", dead_owner().to_dict())
    bystander = sleeper(f"{crashed}-notes.txt")  # vim /tmp/drills-crashed-abc-notes.txt
    recycled = sleeper()  # a live process at a recorded pid, but started at another time
    procs += [bystander, recycled]
    record_server(crashed, recycled, start=1)
    clean(tmp_path)
    assert not crashed.exists()
    assert bystander.poll() is None and recycled.poll() is None


@pytest.mark.parametrize(("owner", "why"), [
    ({"pid": 0}, "does not identify its owner"),
    ({}, "does not identify its owner"),
    ("abc", "does not identify its owner"),
    (None, "does not identify its owner"),
])
def test_an_incomplete_owner_record_is_kept(tmp_path: Path, owner: Any, why: str) -> None:
    if isinstance(owner, dict) and owner:
        owner = {**dead_owner().to_dict(), **owner}
    kept = workdir(tmp_path, "incomplete", owner)
    assert why in clean(tmp_path)
    assert kept.exists()


def test_a_live_run_is_kept(tmp_path: Path) -> None:
    live = workdir(tmp_path, "live", Owner.current().to_dict())
    assert "is still running" in clean(tmp_path)
    assert live.exists()


def test_a_directory_of_another_user_is_kept(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory to another user")
    foreign = workdir(tmp_path, "foreign", dead_owner().to_dict())
    os.chown(foreign, 65534, 65534)
    os.chown(foreign / OWNER_FILE, 65534, 65534)
    assert "owned by uid 65534" in clean(tmp_path)
    assert (foreign / OWNER_FILE).exists()


def test_a_directory_others_can_write_to_is_kept(tmp_path: Path) -> None:
    shared = workdir(tmp_path, "shared", dead_owner().to_dict(), mode=0o777)
    assert "writable by other users" in clean(tmp_path)
    assert shared.exists()


def test_a_linked_owner_record_is_kept(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"owner": dead_owner().to_dict()}))
    linked = tmp_path / "drills-linked-abc"
    linked.mkdir(mode=0o711)
    (linked / OWNER_FILE).symlink_to(elsewhere)
    assert "not a regular file" in clean(tmp_path)
    assert linked.exists()


@pytest.mark.compose
def test_containers_without_a_provably_dead_owner_are_kept(tmp_path: Path) -> None:
    from drills import kinds
    from drills.stack import engine

    docker = engine.client()
    image = kinds.get("redis").image()
    base = {engine.RUN_LABEL: "itest-clean"}
    dead = dead_owner().to_labels()
    cases = {
        "itest-clean-pid0": {**base, **dead, "io.drills.owner-pid": "0"},
        "itest-clean-nopid": {**base, **{k: v for k, v in dead.items() if not k.endswith("pid")}},
        "itest-clean-abc": {**base, **dead, "io.drills.owner-pid": "abc"},
        "itest-clean-live": {**base, **Owner.current().to_labels()},
        "itest-clean-dead": {**base, **dead},
    }
    made = [docker.containers.create(image, ["redis-server", "--port", "0"], name=name,
                                     network_mode="none", labels=labels)
            for name, labels in cases.items()]
    volume = docker.volumes.create("itest-clean-dead-data", labels={**base, **dead})
    try:
        out = clean(tmp_path)
        names = {c.name for c in docker.containers.list(all=True)}
        assert names >= {"itest-clean-pid0", "itest-clean-nopid", "itest-clean-abc",
                         "itest-clean-live"}, out
        assert "itest-clean-dead" not in names, out
        assert volume.name not in {v.name for v in docker.volumes.list()}
        assert "kept container itest-clean-pid0: no complete owner label" in out
    finally:
        for container in made:
            try:
                container.remove(force=True, v=True)
            except Exception:
                pass
        docker.close()


@pytest.mark.compose
def test_a_stack_started_by_hand_from_the_compose_file_is_kept(tmp_path: Path) -> None:
    from drills import kinds
    from drills.stack import engine

    password, conf = tmp_path / "pg-password", tmp_path / "redis.conf"
    password.write_text("by-hand\n")
    conf.write_text((REPO / "fixtures" / "redis.conf").read_text() + "requirepass by-hand\n")
    env = {**os.environ, "DRILLS_PG_PASSWORD_FILE": str(password), "DRILLS_REDIS_CONF": str(conf),
           "DRILLS_REDIS_IMAGE": kinds.get("redis").image()}
    compose = ["docker", "compose", "-p", "itest-by-hand", "-f",
               str(REPO / "docker-compose.drill.yml"), "-f",
               str(REPO / "docker-compose.hostnet.yml")]
    # redis only: its port (6379 by hand) must not clash with a server of this machine
    up = subprocess.run([*compose, "up", "-d", "redis"], env=env, capture_output=True,
                        text=True, check=False)
    docker = engine.client()
    try:
        assert up.returncode == 0, up.stderr
        out = clean(tmp_path)
        project = {"label": "com.docker.compose.project=itest-by-hand"}
        assert docker.containers.list(all=True, filters=project), out
        assert docker.volumes.list(filters=project), out
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, capture_output=True, check=False)
        docker.close()
