"""A plan's checks against real servers: they read the team's data and never change it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis import store as redis_store
from drills.kinds.redis.settings import RedisSettings
from drills.measure.verdict import Verdict
from drills.plan.scenario_spec import Bound, CheckKind, CheckSpec
from drills.plan_drill.checks import run_check
from drills.runtime import choose
from drills.stack.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("logs")
    runtime = choose.factory("local")("itest-plan-checks", logs)
    with Stack(runtime, runtime.services({"db": PostgresSettings(),
                                          "cache": RedisSettings()})) as made:
        with pg_store.connect(made["db"].endpoint) as conn:
            conn.execute("CREATE TABLE orders (id int)")
            conn.execute("INSERT INTO orders VALUES (1), (2)")
        with redis_store.client(made["cache"].endpoint) as r:
            r.rpush("queue", "a", "b", "c")
        yield made


def check(stack: Stack, kind: CheckKind, request: str | tuple[str, ...],
          **bound: float) -> tuple[Verdict | None, str]:
    service = "db" if kind is CheckKind.SQL else "cache"
    spec = CheckSpec(kind, service=service, bound=Bound(**bound),
                     query=request if isinstance(request, str) else None,
                     command=request if isinstance(request, tuple) else ())
    verdict, detail, _ = run_check(spec, {s.name: s for s in stack}, "db", {})
    return verdict, detail


def test_sql_and_redis_numbers_against_their_bounds(stack: Stack) -> None:
    assert check(stack, CheckKind.SQL, "SELECT count(*) FROM orders", at_least=2) == \
        (Verdict.PASS, "answered 2 (wanted >= 2)")
    assert check(stack, CheckKind.SQL, "SELECT count(*) FROM orders", at_least=3)[0] == \
        Verdict.FAIL
    assert check(stack, CheckKind.REDIS, ("LLEN", "queue"), at_most=3)[0] == Verdict.PASS
    assert check(stack, CheckKind.REDIS, ("LLEN", "queue"), at_most=2)[0] == Verdict.FAIL
    verdict, detail = check(stack, CheckKind.SQL, "SELECT count(*) FROM nope", at_least=1)
    assert verdict == Verdict.FAIL and "does not exist" in detail
    verdict, detail = check(stack, CheckKind.SQL, "SELECT 'abc'", at_least=1)
    assert verdict == Verdict.COULD_NOT_VERIFY and "not a number" in detail


def test_checks_cannot_change_the_teams_data(stack: Stack) -> None:
    verdict, detail = check(stack, CheckKind.SQL, "DELETE FROM orders RETURNING 1", at_least=0)
    assert verdict == Verdict.FAIL and "read-only" in detail
    verdict, _ = check(stack, CheckKind.SQL, "COMMIT; DELETE FROM orders", at_least=0)
    assert verdict == Verdict.FAIL
    verdict, detail = check(stack, CheckKind.REDIS, ("FLUSHALL",), at_least=0)
    assert verdict == Verdict.COULD_NOT_VERIFY and "not a read-only command" in detail
    verdict, detail = check(stack, CheckKind.REDIS, ("NOSUCHCMD",), at_least=0)
    assert verdict == Verdict.COULD_NOT_VERIFY
    with pg_store.connect(stack["db"].endpoint) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (2,)
    with redis_store.client(stack["cache"].endpoint) as r:
        assert r.llen("queue") == 3
