"""The compose runtime against a real Docker engine: every fault mechanism, and clean-up."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drills.datastore import postgres as pg_store
from drills.datastore import redis_store
from drills.stack import engine
from drills.stack.compose import ComposeRuntime, ComposeService
from drills.stack.settings import PostgresSettings, RedisSettings
from drills.stack.stack import Stack
from tests.integration.conftest import labelled

pytestmark = pytest.mark.compose


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stack]:
    run_id = f"itest-compose-{request.node.name[5:30].replace('_', '-')}"
    runtime = ComposeRuntime(run_id, tmp_path / "logs")
    with Stack(runtime, runtime.services(
        {"postgres": PostgresSettings(), "redis": RedisSettings()}
    )) as s:
        yield s
    assert labelled(run_id) == [], "the run left labelled containers or volumes"
    assert not runtime.workdir.exists()


def pg(stack: Stack) -> ComposeService:
    service = stack["postgres"]
    assert isinstance(service, ComposeService)
    return service


def write_rows(service: ComposeService, n: int) -> None:
    pg_store.prepare(service.endpoint)
    with pg_store.connect(service.endpoint) as conn:
        conn.execute("INSERT INTO drill_writes (id, value) SELECT g, 'v' || g "
                     "FROM generate_series(1, %s) g", (n,))


def test_identity_and_description(stack: Stack) -> None:
    assert pg(stack).identify()["data_directory"] == "/var/lib/postgresql/data"
    assert stack["redis"].identify()["dir"] == "/data"
    described = pg(stack).describe()
    assert described["image"] == engine.image_for("postgres")
    assert described["image_id"].startswith("sha256:")
    assert described["version"].startswith("15")


def test_crash_restart_keeps_committed_rows(stack: Stack) -> None:
    service = pg(stack)
    write_rows(service, 1000)
    effect = service.kill()
    assert "host pid" in effect.mechanism and "crash" in effect.mechanism
    assert service.wait_exit(10)
    container = service.container()
    assert container.attrs["State"]["ExitCode"] == 137
    service.restart()
    assert len(pg_store.read_back(service.endpoint)) == 1000


def test_pause_blocks_until_unpause(stack: Stack) -> None:
    service = pg(stack)
    done = threading.Event()
    with pg_store.connect(service.endpoint) as conn:
        assert "docker pause" in service.freeze().mechanism

        def query() -> None:
            conn.execute("SELECT 1")
            done.set()

        threading.Thread(target=query, daemon=True).start()
        assert not done.wait(0.5), "a paused container answered"
        service.thaw()
        assert done.wait(5)


def test_stop_start_and_docker_kill(stack: Stack) -> None:
    redis = stack["redis"]
    assert isinstance(redis, ComposeService)
    writer = redis_store.RedisWriter(redis.endpoint)
    writer.write(1, "one")
    writer.close()
    redis.stop()
    assert redis.wait_exit(1)
    redis.restart()
    assert "manual stop" in redis.docker_kill().mechanism
    assert redis.wait_exit(10)
    redis.restart()
    assert redis_store.read_back(redis.endpoint) == {1: "one"}


def test_remove_with_volume_loses_the_data(stack: Stack) -> None:
    service = pg(stack)
    write_rows(service, 10)
    effect = service.remove_with_volume()
    assert "volume" in effect.mechanism
    service.restart(timeout=60)  # compose recreates both: a fresh, empty cluster
    with pg_store.connect(service.endpoint) as conn:
        assert conn.execute("SELECT to_regclass('drill_writes')").fetchone() == (None,)


def test_corrupt_file_is_caught_by_data_checksums(stack: Stack) -> None:
    service = pg(stack)
    write_rows(service, 20000)
    with pg_store.connect(service.endpoint) as conn:
        path = conn.execute("SELECT pg_relation_filepath('drill_writes')").fetchone()
        conn.execute("CHECKPOINT")
    assert path is not None
    service.stop()
    effect = service.corrupt_file(str(path[0]), 5 * 8192 + 4000, b"CORRUPTCORRUPT!!")
    assert "throwaway container" in effect.mechanism
    service.restart()
    with pg_store.connect(service.endpoint) as conn, pytest.raises(Exception) as info:
        conn.execute("SELECT count(*) FROM drill_writes").fetchone()
    assert "invalid page" in str(info.value) or "checksum" in str(info.value)


def test_restart_policy_fires_on_crash_not_on_docker_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLS_RESTART_POLICY", "on-failure")
    runtime = ComposeRuntime("itest-compose-policy", tmp_path / "logs")
    with Stack(runtime, runtime.services({"redis": RedisSettings()})) as s:
        redis = s["redis"]
        assert isinstance(redis, ComposeService)
        redis.kill()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            container = redis.container()
            if container.attrs["RestartCount"] >= 1 and container.status == "running":
                break
            time.sleep(0.1)
        assert redis.container().attrs["RestartCount"] >= 1, "a crash was not restarted"
        redis.docker_kill()
        time.sleep(3)
        container = redis.container()
        assert container.status == "exited", "docker kill was restarted"
    assert labelled("itest-compose-policy") == []


@pytest.mark.parametrize("hostnet", [False, True])
def test_compose_file_renders_for_bridge_and_host_networking(
    tmp_path: Path, hostnet: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bridge networking cannot run on an engine started with --bridge=none, so at least
    # check what compose would create: published on 127.0.0.1 only, or host networking.
    monkeypatch.setenv("DRILLS_NETWORK", "host" if hostnet else "bridge")
    runtime = ComposeRuntime("itest-render", tmp_path / "logs")
    try:
        runtime.hostnet = hostnet
        runtime.services({"postgres": PostgresSettings(), "redis": RedisSettings()})
        config = json.loads(runtime.compose("config", "--format", "json").stdout)
    finally:
        runtime.close()
    for name in ("postgres", "redis"):
        service = config["services"][name]
        assert service["labels"][engine.RUN_LABEL] == "itest-render"
        if hostnet:
            assert service["network_mode"] == "host"
            assert not service.get("ports")
        else:
            assert "network_mode" not in service
            assert [p["host_ip"] for p in service["ports"]] == ["127.0.0.1"]
    assert config["volumes"]["pgdata"]["labels"][engine.RUN_LABEL] == "itest-render"
    command = config["services"]["postgres"]["command"]
    assert ("listen_addresses=127.0.0.1" if hostnet else "listen_addresses=*") in command
