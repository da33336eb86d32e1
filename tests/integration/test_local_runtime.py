"""The local runtime against real servers: lifecycle, identity, faults, clean-up."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from drills.datastore import postgres as pg_store
from drills.datastore import redis_store
from drills.errors import NotOurServer, ServiceNotReady
from drills.stack.local import LocalPostgres, LocalRuntime
from drills.stack.settings import PostgresSettings, RedisSettings
from drills.stack.stack import Stack
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
        second = LocalPostgres("postgres", runtime.workdir / "pg", tmp_path / "logs2",
                               PostgresSettings())
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
    assert pg_store.read_back(pg.endpoint) == {1: "before"}


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
    assert redis_store.read_back(redis.endpoint) == {7: "seven"}


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
