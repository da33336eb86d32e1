"""Several services of one kind in one stack: each its own server, on either runtime."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drills.faults import Kill
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis.settings import RedisSettings
from drills.runtime import choose
from drills.stack.stack import Stack

pytestmark = pytest.mark.slow

RUNTIMES = ["local", pytest.param("compose", marks=pytest.mark.compose)]


@pytest.fixture(params=RUNTIMES)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    runtime = choose.factory(request.param)(f"itest-two-pg-{request.param}", tmp_path / "logs")
    with Stack(runtime, runtime.services({
        "orders": PostgresSettings(),
        "billing": PostgresSettings(synchronous_commit=False),
        "cache": RedisSettings(appendonly=False),
    })) as made:
        yield made


def setting(service: object, name: str) -> str:
    with pg_store.connect(service.endpoint) as conn:  # type: ignore[attr-defined]
        row = conn.execute(f"SHOW {name}").fetchone()
    assert row is not None
    return str(row[0])


def test_two_postgres_services_are_two_servers(stack: Stack) -> None:
    orders, billing = stack["orders"], stack["billing"]
    assert orders.endpoint.port != billing.endpoint.port
    assert orders.endpoint.password != billing.endpoint.password
    assert setting(orders, "synchronous_commit") == "on"
    assert setting(billing, "synchronous_commit") == "off"
    for service, rows in ((orders, 3), (billing, 5)):
        pg_store.prepare(service.endpoint)
        with pg_store.connect(service.endpoint) as conn:
            conn.execute("INSERT INTO drill_writes (id, value) SELECT g, 'v' FROM "
                         "generate_series(1, %s) g", (rows,))
    assert len(dict(pg_store.read_back(orders.endpoint))) == 3
    assert len(dict(pg_store.read_back(billing.endpoint))) == 5


def test_a_fault_on_one_leaves_the_other_answering(stack: Stack) -> None:
    orders, billing = stack["orders"], stack["billing"]
    Kill(billing).inject()
    assert not billing.alive()
    assert orders.alive() and orders.identify()["database"] == "drills"
    billing.restart()
    assert billing.identify()["database"] == "drills"


def test_each_service_is_described_under_its_own_name(stack: Stack) -> None:
    described = {s.name: s.describe() for s in stack}
    assert set(described) == {"orders", "billing", "cache"}
    assert described["orders"]["kind"] == described["billing"]["kind"] == "postgres"
    assert described["cache"]["kind"] == "redis"
    if stack.runtime.name == "compose":
        containers = {d["container"] for d in described.values()}
        assert len(containers) == 3 and all(c.endswith(("-orders-1", "-billing-1", "-cache-1"))
                                            for c in containers)
