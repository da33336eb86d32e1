"""The full stack for real: the reference app, Toxiproxy between it and its stores, and
every network fault on a link, on either runtime.

The app's HTTP contract is what the workload's classification rests on (DESIGN.md rule
11): a write refused before the database is 503 and says so; one in flight when the link
broke is 502/504 and says it was attempted. Each network fault is checked twice: in
Toxiproxy's own state (the toxics it holds, through its API) and in what the app does.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drills.errors import StackError
from drills.faults.network import Bandwidth, Latency, LinkFault, Partition, ResetPeer, SlowClose
from drills.kinds.app import store as app_store
from drills.kinds.app.settings import AppSettings
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis.settings import RedisSettings
from drills.kinds.toxiproxy.settings import ToxiproxySettings
from drills.network.link import Link
from drills.network.toxiproxy import Toxic
from drills.runtime import choose
from drills.stack.capabilities import CarriesLinks, require
from drills.stack.stack import Stack
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.slow

RUNTIMES = ["local", pytest.param("compose", marks=pytest.mark.compose)]


@pytest.fixture(scope="module", params=RUNTIMES)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("logs")
    runtime = choose.factory(request.param)(f"itest-full-{request.param}", logs)
    with Stack(runtime, runtime.services({
        "postgres": PostgresSettings(), "redis": RedisSettings(),
        "toxiproxy": ToxiproxySettings(), "app": AppSettings(),
    })) as made:
        pg_store.prepare(made["postgres"].endpoint)
        yield made


def links(stack: Stack) -> CarriesLinks:
    return require(stack["toxiproxy"], CarriesLinks, "test")


class App:
    """A plain HTTP client of the app (no retries), timing each call."""

    def __init__(self, stack: Stack) -> None:
        self.endpoint = stack["app"].endpoint

    def call(self, method: str, path: str, body: dict[str, Any] | None = None
             ) -> tuple[int, dict[str, Any], dict[str, str], float]:
        conn = http.client.HTTPConnection(self.endpoint.host, self.endpoint.port, timeout=10)
        t0 = time.monotonic()
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body))
            response = conn.getresponse()
            raw = response.read()
            return (response.status, json.loads(raw) if raw else {},
                    {k.lower(): v for k, v in response.getheaders()}, time.monotonic() - t0)
        finally:
            conn.close()

    def write(self, item: int, value: str) -> tuple[int, dict[str, Any], dict[str, str], float]:
        return self.call("POST", "/items", {"id": item, "value": value})


_ids = iter(range(10_000, 10**9))


def probe_once(stack: Stack, seq: int) -> None:
    """One attempt of the drill's probe at the app (a write and its read-back)."""
    probe = app_store.probe(stack["app"].endpoint)
    try:
        probe.attempt(seq)
    finally:
        probe.close()


def test_the_app_reaches_its_stores_through_its_links(stack: Stack) -> None:
    carried = {link.title: link for link in links(stack).links()}
    assert set(carried) == {"app -> postgres", "app -> redis"}
    proxies = links(stack).link("app", "postgres").api.proxies()
    for link in carried.values():
        assert proxies[link.name]["listen"] == link.listen
        assert proxies[link.name]["upstream"] == link.upstream
        assert proxies[link.name]["enabled"] is True
    described = stack["app"].describe()
    assert described["version"] == "1.0.0"


def test_write_contract(stack: Stack) -> None:
    app, item = App(stack), next(_ids)
    assert app.write(item, "a")[0] == 201
    assert app.write(item, "a")[0] == 200  # the same write again: stored once
    status, body, headers, _ = app.write(item, "b")  # another value under the id: refused
    assert status == 409 and headers["x-write-attempted"] == "yes"
    status, _, headers, _ = app.call("POST", "/items", {"value": "no id"})
    assert status == 400 and headers["x-write-attempted"] == "no"
    status, body, _, _ = app.call("GET", f"/items/{item}")
    assert status == 200 and body["value"] == "a" and body["source"] == "cache"
    assert app.call("GET", f"/items/{next(_ids)}")[0] == 404
    # the system of record holds it; the probe's ids (below 1) are not the workload's
    probe_once(stack, 7)
    stored = dict(pg_store.read_back(stack["postgres"].endpoint))
    assert stored[item] == "a" and all(i > 0 for i in stored)


def toxics(link: Link) -> list[dict[str, Any]]:
    return link.api.toxics(link.name)


@pytest.mark.parametrize(("make", "expected"), [
    (lambda link: Latency(link, 120, 10), [("latency", "downstream", {"latency": 120,
                                                                      "jitter": 10})]),
    (lambda link: Bandwidth(link, 64), [("bandwidth", "upstream", {"rate": 64}),
                                        ("bandwidth", "downstream", {"rate": 64})]),
    (lambda link: ResetPeer(link, 5), [("reset_peer", "upstream", {"timeout": 5})]),
    (lambda link: SlowClose(link, 300), [("slow_close", "downstream", {"delay": 300})]),
    (lambda link: Partition(link, "timeout"), [("timeout", "upstream", {"timeout": 0}),
                                               ("timeout", "downstream", {"timeout": 0})]),
])
def test_each_toxic_fault_is_what_toxiproxy_holds_until_reverted(
        stack: Stack, make: Any, expected: list[tuple[str, str, dict[str, int]]]) -> None:
    link = links(stack).link("app", "redis")
    fault: LinkFault = make(link)
    done = fault.inject()
    try:
        held = sorted((t["type"], t["stream"], t["attributes"]) for t in toxics(link))
        assert held == sorted(expected)
        assert done.facts["api_ms"] < 1000 and done.facts["link"]["proxy"] == link.name
    finally:
        fault.revert()
    assert toxics(link) == []


def test_latency_is_added_to_every_answer_and_goes_with_the_revert(stack: Stack) -> None:
    app, link = App(stack), links(stack).link("app", "postgres")

    def median_write_s() -> float:
        return statistics.median(app.write(next(_ids), "v")[3] for _ in range(7))

    calm = median_write_s()
    lag = Latency(link, 200)
    lag.inject()
    try:
        slow = median_write_s()
    finally:
        lag.revert()
    assert slow >= 0.2 > calm, (calm, slow)
    assert median_write_s() < 0.2


def test_a_link_that_is_down_refuses_before_anything_is_sent(stack: Stack) -> None:
    app, link = App(stack), links(stack).link("app", "postgres")
    cut = Partition(link, "down")
    cut.inject()
    try:
        assert link.api.proxies()[link.name]["enabled"] is False
        status, body, headers, took = app.write(next(_ids), "v")
        if status == 502:  # the pooled connection broke under this very write: in doubt
            assert headers["x-write-attempted"] == "yes"
            status, body, headers, took = app.write(next(_ids), "v")
        assert status == 503 and headers["x-write-attempted"] == "no", body
        assert body["attempted"] is False and took < 1.5
        assert app.call("GET", "/health")[0] == 503
    finally:
        cut.revert()
    assert app.write(next(_ids), "v")[0] == 201


def test_a_black_hole_leaves_a_write_in_doubt_until_the_apps_deadline(stack: Stack) -> None:
    app, link = App(stack), links(stack).link("app", "postgres")
    assert app.write(next(_ids), "v")[0] == 201  # a pooled connection, in the black hole next
    hole = Partition(link, "timeout")
    hole.inject()
    try:
        status, body, headers, took = app.write(next(_ids), "v")
    finally:
        hole.revert()
    deadline = AppSettings().deadline_s
    assert status in (503, 504) and took < deadline + 1.0, (status, took)
    if status == 504:  # the INSERT was on the wire: maybe done, answered at the deadline
        assert headers["x-write-attempted"] == "yes" and body["attempted"] is True
        assert took >= deadline - 0.1
    else:  # the connection itself never came up (connect_timeout): not attempted
        assert headers["x-write-attempted"] == "no"
    assert app.write(next(_ids), "v")[0] == 201


def test_reset_peer_breaks_the_link_and_the_app_says_how_far_a_write_got(stack: Stack) -> None:
    app, link = App(stack), links(stack).link("app", "postgres")
    reset = ResetPeer(link)
    reset.inject()
    try:
        answers = [app.write(next(_ids), "v") for _ in range(3)]
    finally:
        reset.revert()
    for status, _, headers, _ in answers:
        assert (status, headers["x-write-attempted"]) in ((502, "yes"), (503, "no"))
    assert app.write(next(_ids), "v")[0] == 201


def test_without_its_cache_the_app_serves_from_postgres_degraded(stack: Stack) -> None:
    app, link = App(stack), links(stack).link("app", "redis")
    item = next(_ids)
    cut = Partition(link, "down")
    cut.inject()
    try:
        assert app.write(item, "kept")[0] == 201
        status, body, _, _ = app.call("GET", f"/items/{item}")
        assert status == 200 and body == {"id": item, "value": "kept", "source": "database"}
        status, body, _, _ = app.call("GET", "/health")
        assert status == 200 and body["status"] == "degraded" and body["cache"]
        probe_once(stack, 8)  # the drill still sees it up
    finally:
        cut.revert()
    # the app skips its cache for a second after a failure, then uses it again
    wait_until("the app back on its cache",
               lambda: App(stack).call("GET", "/health")[1]["status"] == "ok", 10)


def test_toxiproxy_errors_name_the_server_and_the_call(stack: Stack) -> None:
    api = links(stack).link("app", "postgres").api
    with pytest.raises(StackError) as info:
        api.add_toxic("no-such-proxy", Toxic("t", "latency", {"latency": 1}))
    text = str(info.value)
    assert f"{api.host}:{api.port}" in text and "POST /proxies/no-such-proxy/toxics" in text
    assert "HTTP 404" in text


def test_stopping_removes_every_proxy_and_a_restart_brings_them_back(stack: Stack) -> None:
    proxy = stack["toxiproxy"]
    links_of = links(stack)
    api = links_of.link("app", "postgres").api
    proxy.release_links()  # type: ignore[attr-defined]  # what stop() does first
    assert api.proxies() == {}
    proxy.wait_ready()
    assert set(api.proxies()) == {link.name for link in links_of.links()}
    # the app's pooled connections went with the proxies: each breaks under one write, in
    # doubt (502, attempted), until a new connection serves it
    answers = [App(stack).write(next(_ids), "v") for _ in range(20)]
    statuses = [a[0] for a in answers]
    assert 201 in statuses, statuses
    broken = answers[:statuses.index(201)]
    assert all(a[0] == 502 and a[2]["x-write-attempted"] == "yes" for a in broken), statuses


def test_a_link_needs_a_proxy_listed_before_the_app(tmp_path: Path) -> None:
    runtime = choose.factory("local")("itest-order", tmp_path / "logs")
    try:
        with pytest.raises(StackError, match="'toxiproxy', which the stack does not list"):
            runtime.services({"postgres": PostgresSettings(), "redis": RedisSettings(),
                              "app": AppSettings(), "toxiproxy": ToxiproxySettings()})
    finally:
        runtime.close()
