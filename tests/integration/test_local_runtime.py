"""The local runtime against real servers, beyond what every kind keeps on it.

The contract of every data kind (start, identity, kill, freeze, lost data, exec, clean-up)
is tested once per kind and runtime in test_kind_conformance.py; here: a port another
server holds, a corrupted file, commands with a kind's own tools.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from drills.errors import FaultError, ServiceNotReady
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.local import LocalPostgres
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis.settings import RedisSettings
from drills.runtime.local import LocalRuntime
from drills.stack.capabilities import Exec
from drills.stack.local_service import LocalContext
from drills.stack.stack import Stack


@pytest.fixture
def stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    runtime = LocalRuntime("itest", tmp_path / "logs")
    with Stack(runtime, runtime.services(
        {"postgres": PostgresSettings(), "redis": RedisSettings()}
    )) as s:
        yield s


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
