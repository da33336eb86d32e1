"""The local runtime against real servers: lifecycle, identity, faults, clean-up."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from drills.errors import FaultError, NotOurServer, ServiceNotReady
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.local import LocalPostgres
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis import store as redis_store
from drills.kinds.redis.settings import RedisSettings
from drills.stack.capabilities import Exec, HasDataVolume, Killable, Pausable
from drills.stack.local import LocalContext, LocalRuntime
from drills.stack.stack import Stack
from drills.stack.workdir import PROCESSES_FILE
from tests.integration.conftest import processes_mentioning


@pytest.fixture
def stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    runtime = LocalRuntime("itest", tmp_path / "logs")
    with Stack(runtime, runtime.services(
        {"postgres": PostgresSettings(), "redis": RedisSettings()}
    )) as s:
        yield s


def test_identity_is_proved_not_assumed(stack: Stack) -> None:
    pg, redis = stack["postgres"], stack["redis"]
    found = pg.identify()
    assert (found["user"], found["database"]) == ("drills", "drills")
    with pytest.raises(NotOurServer, match="not ours"):
        pg_store.identify(pg.endpoint, {"data_directory": "/somewhere/else"})
    assert redis.identify()["dir"].startswith(str(stack.runtime.workdir))  # type: ignore[attr-defined]
    with pytest.raises(NotOurServer, match="not ours"):
        redis_store.identify(redis.endpoint, {"dir": "/somewhere/else"})


def test_port_taken_by_another_server_is_not_mistaken_for_ours(
    stack: Stack, tmp_path: Path
) -> None:
    first = stack["postgres"]
    runtime = LocalRuntime("itest-clash", tmp_path / "logs2")
    try:
        second = LocalPostgres("postgres", PostgresSettings(),
                               LocalContext(runtime.workdir, tmp_path / "logs2", {}))
        second.endpoint = replace(second.endpoint, port=first.endpoint.port)
        second.start()
        with pytest.raises(ServiceNotReady) as info:
            second.wait_ready(timeout=10)
        assert "could not bind" in info.value.log_tail
        second.stop()
    finally:
        runtime.close()


def test_kill_restart_keeps_committed_data(stack: Stack) -> None:
    pg = stack["postgres"]
    pg_store.prepare(pg.endpoint)
    writer = pg_store.PgWriter(pg.endpoint)
    writer.write(1, "before")
    writer.close()
    effect = pg.kill()
    assert "SIGKILL" in effect.mechanism
    assert pg.wait_exit(5)
    assert not pg.alive()
    pg.restart()
    assert dict(pg_store.read_back(pg.endpoint)) == {1: "before"}


def test_freeze_blocks_until_thaw(stack: Stack) -> None:
    pg = stack["postgres"]
    done = threading.Event()
    with pg_store.connect(pg.endpoint) as conn:
        pg.freeze()

        def query() -> None:
            conn.execute("SELECT 1")
            done.set()

        worker = threading.Thread(target=query, daemon=True)
        worker.start()
        assert not done.wait(0.5), "a frozen server answered"
        pg.thaw()
        assert done.wait(5), "the thawed server did not answer"


def test_redis_kill_restart_replays_aof(stack: Stack) -> None:
    redis = stack["redis"]
    writer = redis_store.RedisWriter(redis.endpoint)
    writer.write(7, "seven")
    writer.close()
    redis.kill()
    assert redis.wait_exit(5)
    redis.restart()
    assert dict(redis_store.read_back(redis.endpoint)) == {7: "seven"}


def test_close_leaves_nothing_behind(tmp_path: Path) -> None:
    runtime = LocalRuntime("itest-close", tmp_path / "logs")
    stack = Stack(runtime, runtime.services({"postgres": PostgresSettings(),
                                             "redis": RedisSettings()}))
    stack.up()
    workdir = runtime.workdir
    assert processes_mentioning(str(workdir))
    stack.close()
    assert not workdir.exists()
    assert processes_mentioning(str(workdir)) == []
    with pytest.raises(psycopg.OperationalError):
        pg_store.connect(stack["postgres"].endpoint)


def test_every_local_service_offers_every_capability(stack: Stack) -> None:
    for service in stack:
        for capability in (Killable, Pausable, HasDataVolume, Exec):
            assert service.supports(capability), (service.name, capability)


def test_server_processes_are_recorded_with_their_start_time(stack: Stack) -> None:
    workdir = stack.runtime.workdir  # type: ignore[attr-defined]
    lines = (workdir / PROCESSES_FILE).read_text().splitlines()
    assert {json.loads(line)["name"] for line in lines} == {"postgres", "redis"}
    assert all(json.loads(line)["start"] > 0 for line in lines)


def test_lose_data_then_restart_gives_an_empty_server(stack: Stack) -> None:
    pg = stack["postgres"]
    assert isinstance(pg, LocalPostgres)
    pg_store.prepare(pg.endpoint)
    writer = pg_store.PgWriter(pg.endpoint)
    writer.write(1, "gone soon")
    writer.close()
    action = pg.lose_data()
    assert "SIGKILL" in action.mechanism and str(pg.home) in action.mechanism
    assert not pg.home.exists()
    pg.restart()
    with pg_store.connect(pg.endpoint) as conn:
        assert conn.execute("SELECT to_regclass('drill_writes')").fetchone() == (None,)


def test_corrupt_file_is_caught_by_data_checksums(stack: Stack) -> None:
    pg = stack["postgres"]
    assert isinstance(pg, LocalPostgres)
    pg_store.prepare(pg.endpoint)
    with pg_store.connect(pg.endpoint) as conn:
        conn.execute("INSERT INTO drill_writes (id, value) SELECT g, 'v' || g "
                     "FROM generate_series(1, 20000) g")
        path = conn.execute("SELECT pg_relation_filepath('drill_writes')").fetchone()
        conn.execute("CHECKPOINT")
    assert path is not None
    pg.stop()
    action = pg.corrupt_file(str(path[0]), 5 * 8192 + 4000, b"CORRUPTCORRUPT!!")
    assert action.facts["bytes"] == 16
    pg.restart()
    with pg_store.connect(pg.endpoint) as conn, pytest.raises(psycopg.Error) as info:
        conn.execute("SELECT count(*) FROM drill_writes").fetchone()
    assert "invalid page" in str(info.value) or "checksum" in str(info.value)


def test_corrupt_file_refuses_paths_outside_the_data_directory(stack: Stack) -> None:
    pg = stack["postgres"]
    assert isinstance(pg, LocalPostgres)
    for path in ("../../../etc/passwd", "/etc/passwd"):
        with pytest.raises(FaultError, match="not a path inside"):
            pg.corrupt_file(path, 0, b"x")


def test_exec_runs_in_the_servers_environment(stack: Stack) -> None:
    pg, redis = stack["postgres"], stack["redis"]
    assert isinstance(pg, Exec) and isinstance(redis, Exec)
    done = pg.exec(["psql", "-tAc", "SELECT current_user || ' ' || current_database()"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "drills drills"
    done = redis.exec(["redis-cli", "-p", str(redis.endpoint.port), "PING"])
    assert done.stdout.decode().strip() == "PONG", done.stderr
