"""The compose runtime against a real Docker engine, beyond what every kind keeps on it.

The contract of every data kind (start, identity, kill, pause, lost data, exec, clean-up)
is tested once per kind and runtime in test_kind_conformance.py; here: the engine's own
kill and restart policies, corrupted files, the compose file, secrets, two projects.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drills import kinds
from drills.errors import FaultError
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis import store as redis_store
from drills.kinds.redis.settings import RedisSettings
from drills.runtime.compose import ComposeRuntime
from drills.stack import engine
from drills.stack.compose_service import ComposeService
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
    assert dict(redis_store.read_back(redis.endpoint)) == {1: "one"}


def test_corrupt_file_is_caught_by_data_checksums(stack: Stack) -> None:
    service = pg(stack)
    write_rows(service, 20000)
    with pg_store.connect(service.endpoint) as conn:
        path = conn.execute("SELECT pg_relation_filepath('drill_writes')").fetchone()
        conn.execute("CHECKPOINT")
    assert path is not None
    service.stop()
    action = service.corrupt_file(str(path[0]), 5 * 8192 + 4000, b"CORRUPTCORRUPT!!")
    assert "throwaway container" in action.mechanism
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
        assert service["labels"]["io.drills.owner-pid"] == str(os.getpid())
        if hostnet:
            assert service["network_mode"] == "host"
            assert not service.get("ports")
        else:
            assert "network_mode" not in service
            assert [p["host_ip"] for p in service["ports"]] == ["127.0.0.1"]
    assert config["volumes"]["postgres-data"]["labels"][engine.RUN_LABEL] == "itest-render"
    if not hostnet:  # the network compose creates is labelled too: `drill clean` finds it
        assert config["networks"]["default"]["labels"][engine.RUN_LABEL] == "itest-render"
    command = config["services"]["postgres"]["command"]
    assert ("listen_addresses=127.0.0.1" if hostnet else "listen_addresses=*") in command


def test_the_compose_file_by_hand_renders(tmp_path: Path) -> None:
    """docker-compose.drill.yml is also a stack people start by hand (README, its header)."""
    import subprocess

    from drills.runtime.compose_file import template_path

    password, conf = tmp_path / "pg-password", tmp_path / "redis.conf"
    password.write_text("secret\n")
    conf.write_text("requirepass secret\n")
    redis_password = tmp_path / "redis-password"
    redis_password.write_text("secret\n")
    here = template_path().parent
    env = {**os.environ, "DRILLS_PG_PASSWORD_FILE": str(password), "DRILLS_REDIS_CONF": str(conf),
           "DRILLS_REDIS_PASSWORD_FILE": str(redis_password)}
    for extra in ([], ["-f", str(here / "docker-compose.hostnet.yml")]):
        done = subprocess.run(["docker", "compose", "-f", str(template_path()), *extra, "config",
                               "--format", "json"], env=env, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr
        config = json.loads(done.stdout)
        assert set(config["services"]) == set(kinds.names())  # a template per kind
        app = config["services"]["app"]
        assert "depends_on" not in app  # started in order by hand (the file's header)
        if extra:  # host networking: the app reaches its links on loopback
            assert app["environment"]["APP_PG_HOST"] == "127.0.0.1"
            assert "-host=127.0.0.1" in config["services"]["toxiproxy"]["command"]
        assert not any(k.startswith("io.drills") for svc in config["services"].values()
                       for k in (svc.get("labels") or {})), "a by-hand stack must carry no owner"


def test_secret_files_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: a redis.conf with requirepass was left 0644 in a predictable /tmp path when
    # chown failed (not root). Now every secret file is 0600 in a 0700 directory, whoever
    # runs the drill; chown is never needed.
    def refuse_chown(*args: object, **kwargs: object) -> None:
        raise PermissionError("not root")

    monkeypatch.setattr(os, "chown", refuse_chown)
    runtime = ComposeRuntime("itest-secrets", tmp_path / "logs")
    try:
        runtime.services({"postgres": PostgresSettings(), "redis": RedisSettings()})
        assert stat.S_IMODE(runtime.secrets_dir.stat().st_mode) == 0o700
        files = list(runtime.secrets_dir.iterdir())
        assert {f.name for f in files} == {"postgres-password", "redis.conf"}
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert "requirepass" in (runtime.secrets_dir / "redis.conf").read_text()
        evidence = (tmp_path / "logs" / "compose.run.json").read_text()
        for service in runtime._made:
            assert service.endpoint.password not in evidence
    finally:
        runtime.close()


def test_kill_refuses_a_container_that_is_not_running(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # State.Pid is 0 for a container that has exited; os.kill(0, SIGKILL) would kill the
    # drill's own process group. The guard below turns such a call into a test failure.
    real_kill = os.kill
    signalled: list[int] = []

    def guarded_kill(pid: int, sig: int) -> None:
        signalled.append(pid)
        if pid <= 1:
            raise AssertionError(f"os.kill({pid}, {sig}) would hit more than the server")
        real_kill(pid, sig)

    monkeypatch.setattr(os, "kill", guarded_kill)
    service = pg(stack)
    service.stop()
    assert service.wait_exit(10)
    with pytest.raises(FaultError, match="has no main process"):
        service.kill()
    assert signalled == []


def test_exec_runs_inside_the_container(stack: Stack) -> None:
    service = pg(stack)
    done = service.exec(["psql", "-tAc", "SELECT current_user || ' ' || current_database()"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "drills drills"
    redis = stack["redis"]
    assert isinstance(redis, ComposeService)
    port = redis.spec.container_port
    done = redis.exec(["redis-cli", "-p", str(port), "PING"])
    assert done.stdout.decode().strip() == "PONG", done.stderr


def test_two_runtimes_of_one_run_never_touch_each_other(tmp_path: Path) -> None:
    first = ComposeRuntime("itest-shared-run", tmp_path / "a")
    second = ComposeRuntime("itest-shared-run", tmp_path / "b")
    try:
        assert first.project != second.project
        with Stack(first, first.services({"redis": RedisSettings()})) as one:
            with Stack(second, second.services({"redis": RedisSettings()})) as two:
                a, b = one["redis"], two["redis"]
                assert isinstance(a, ComposeService) and isinstance(b, ComposeService)
                assert a.container().id != b.container().id
                a_id = a.container().id
            assert b.alive() is False
            assert one["redis"].alive(), "closing the second project touched the first"
            assert a.container().id == a_id
    finally:
        first.close()
        second.close()
    assert labelled("itest-shared-run") == []
