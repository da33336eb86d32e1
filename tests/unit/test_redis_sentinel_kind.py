"""Redis replication and the Sentinel kind, without servers: parsing, configuration, endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from drills import kinds
from drills.errors import StackError
from drills.kinds.redis.connect import master_name, where
from drills.kinds.redis.replica import primary_of, replication_conf
from drills.kinds.redis.replication import state_of
from drills.kinds.redis.settings import RedisSettings
from drills.kinds.sentinel.settings import SentinelSettings
from drills.kinds.sentinel.watch import _EVENT, SentinelWatch, client_endpoint, sentinel_conf
from drills.stack.endpoint import Endpoint

PRIMARY_INFO: dict[str, Any] = {
    "role": "master", "connected_slaves": 2, "master_replid": "abc", "master_repl_offset": 5000,
    "slave0": {"ip": "127.0.0.1", "port": 7001, "state": "online", "offset": 4900, "lag": 0},
    "slave1": {"ip": "127.0.0.1", "port": 7002, "state": "wait_bgsave", "offset": 0, "lag": 1},
}
REPLICA_INFO: dict[str, Any] = {
    "role": "slave", "master_host": "127.0.0.1", "master_port": 7000,
    "master_link_status": "up", "slave_read_repl_offset": 5000, "slave_repl_offset": 4990,
    "master_replid": "abc", "master_repl_offset": 4990,
}


def test_a_primary_reports_its_replicas_and_their_lag_in_bytes() -> None:
    state = state_of(PRIMARY_INFO)
    assert (state.role, state.position, state.epoch) == ("primary", 5000, "abc")
    assert [(d.name, d.state, d.lag_bytes) for d in state.downstream] == [
        ("127.0.0.1:7001", "online", 100), ("127.0.0.1:7002", "wait_bgsave", 5000)]
    assert state.downstream[0].lag_s is None  # Redis's "lag" is an ack's age, not a lag


def test_a_replica_reports_what_it_applied_received_and_follows() -> None:
    state = state_of(REPLICA_INFO)
    assert (state.role, state.position, state.received) == ("replica", 4990, 5000)
    assert (state.streaming, state.upstream, state.epoch) == (True, "127.0.0.1:7000", "abc")
    assert state_of({**REPLICA_INFO, "master_link_status": "down"}).streaming is False


def test_endpoints_name_their_discovery() -> None:
    plain = Endpoint("redis", "127.0.0.1", 7000, "pw")
    assert master_name(plain) is None and where(plain) == "redis on 127.0.0.1:7000"
    asked = Endpoint("redis", "127.0.0.1", 26379, "pw", alternates=(("127.0.0.1", 26380),),
                     discovery="sentinel:drills")
    assert master_name(asked) == "drills"
    assert where(asked) == "redis 'drills' via sentinels 127.0.0.1:26379,127.0.0.1:26380"
    for wrong in ("sentinel:", "consul:drills"):
        with pytest.raises(StackError, match="sentinel:NAME"):
            master_name(Endpoint("redis", "h", 1, "pw", discovery=wrong))


class FakeService:
    def __init__(self, name: str, kind: str = "redis", replica_of: str | None = None,
                 port: int = 7000) -> None:
        self.name, self.kind, self.replica_of = name, kind, replica_of
        self.endpoint = Endpoint(kind, "127.0.0.1", port, "group-pw")


def test_a_replica_names_a_redis_primary_listed_before_it() -> None:
    services: dict[str, Any] = {"redis": FakeService("redis"),
                                "pg": FakeService("pg", kind="postgres")}
    assert primary_of("r", RedisSettings(), services) is None
    assert primary_of("r", RedisSettings(replica_of="redis"), services) is services["redis"]
    with pytest.raises(StackError, match="names no service listed before it"):
        primary_of("r", RedisSettings(replica_of="later"), services)
    with pytest.raises(StackError, match="is a postgres service"):
        primary_of("r", RedisSettings(replica_of="pg"), services)
    assert replication_conf(None, "pw") == {"masterauth": "pw", "repl-diskless-sync-delay": "0"}
    assert replication_conf(("127.0.0.1", 7000), "pw")["replicaof"] == "127.0.0.1 7000"


def test_sentinel_settings_refuse_what_sentinel_would() -> None:
    with pytest.raises(ValueError, match="quorum"):
        SentinelSettings(quorum=0)
    with pytest.raises(ValueError, match="master_name"):
        SentinelSettings(master_name="two words")
    assert kinds.of_settings(SentinelSettings()).name == "sentinel"
    assert "store" not in kinds.get("sentinel").MODULES  # it holds no data


def test_the_sentinel_conf_watches_the_primary_with_the_group_password() -> None:
    primary = FakeService("redis")
    text = sentinel_conf(SentinelSettings(quorum=2, down_after_ms=700), primary.endpoint,
                         port=26379, bind="127.0.0.1", directory="/tmp/s", myid="a" * 40,
                         replicas=[FakeService("replica", port=7001).endpoint], peers=[])
    lines = text.splitlines()
    assert "sentinel monitor drills 127.0.0.1 7000 2" in lines
    assert lines.index("sentinel monitor drills 127.0.0.1 7000 2") < lines.index(
        "sentinel down-after-milliseconds drills 700")
    assert {"requirepass group-pw", "sentinel auth-pass drills group-pw",
            "sentinel sentinel-pass group-pw", "sentinel known-replica drills 127.0.0.1 7001",
            f"sentinel myid {'a' * 40}"} <= set(lines)


def test_the_client_endpoint_asks_the_sentinels_with_the_primarys_password() -> None:
    class Watch(SentinelWatch):  # only what client_endpoint reads
        def __init__(self, name: str, port: int, master: str = "drills") -> None:
            self.name, self.master_name = name, master
            self.endpoint = Endpoint("sentinel", "127.0.0.1", port, "group-pw")

    Watch.__abstractmethods__ = frozenset()  # a stand-in: no server behind it
    primary = FakeService("redis")
    made = client_endpoint([Watch("s1", 26379), Watch("s2", 26380)], primary)
    assert (made.kind, made.discovery, made.password) == ("redis", "sentinel:drills", "group-pw")
    assert made.addresses() == (("127.0.0.1", 26379), ("127.0.0.1", 26380))
    with pytest.raises(StackError, match="same primary name"):
        client_endpoint([Watch("s1", 1), Watch("s2", 2, master="other")], primary)
    with pytest.raises(StackError, match="none"):
        client_endpoint([], primary)  # type: ignore[arg-type]


def test_event_lines_of_a_sentinel_log_are_recognised() -> None:
    line = "12032:X 06 Dec 2026 08:01:00.289 # +odown master drills 127.0.0.1 27001 #quorum 1/1"
    match = _EVENT.match(line)
    assert match is not None and match[1] == "08:01:00.289" and match[2] == "+odown"
    assert _EVENT.match("12032:X 06 Dec 2026 08:01:00.289 * Sentinel new configuration saved "
                        "on disk") is None
    failed = _EVENT.match("1:X 06 Dec 2026 08:01:00.289 # -failover-abort-no-good-slave master")
    assert failed is not None and failed[2] == "-failover-abort-no-good-slave"


def test_a_sentinel_watches_a_redis_primary_listed_before_it() -> None:
    from drills.kinds.sentinel.watch import watched

    services: dict[str, Any] = {"redis": FakeService("redis"),
                                "replica": FakeService("replica", replica_of="redis"),
                                "pg": FakeService("pg", kind="postgres")}
    assert watched("s", SentinelSettings(), services) is services["redis"]
    for monitors, problem in (("nope", "names no service"), ("pg", "is a postgres service"),
                              ("replica", "is a replica of redis")):
        with pytest.raises(StackError, match=problem):
            watched("s", SentinelSettings(monitors=monitors), services)


def test_compose_specs_of_a_replica_and_its_sentinel(tmp_path: Any) -> None:
    from types import SimpleNamespace

    from drills.stack.compose_spec import ComposeContext

    for hostnet, follows in ((True, None), (False, "replicaof redis 6379")):
        ctx = ComposeContext(hostnet, tmp_path / str(hostnet), {})
        ctx.secrets_dir.mkdir(mode=0o700)
        for name, settings in {"redis": RedisSettings(),
                               "replica": RedisSettings(replica_of="redis")}.items():
            spec = kinds.of_settings(settings).compose(name, settings, ctx)
            ctx.services[name] = SimpleNamespace(  # type: ignore[index]
                name=name, kind="redis", endpoint=spec.endpoint, spec=spec,
                replica_of=spec.settings.get("replica_of"))
        primary, replica = ctx.services["redis"], ctx.services["replica"]
        assert replica.endpoint.password == primary.endpoint.password
        conf = (ctx.secrets_dir / "replica.conf").read_text().splitlines()
        password = primary.endpoint.password
        assert {f"requirepass {password}", f"masterauth {password}"} <= set(conf)
        upstream = follows or f"replicaof 127.0.0.1 {primary.endpoint.port}"
        assert upstream in conf
        assert password not in str(dict(replica.spec.settings))  # shown in reports
        sentinel = SentinelSettings()
        if hostnet:
            spec = kinds.of_settings(sentinel).compose("sentinel1", sentinel, ctx)
            assert spec.endpoint.password == password and spec.data_path is None
            text = (ctx.secrets_dir / "sentinel1.conf").read_text()
            assert f"sentinel known-replica drills 127.0.0.1 {replica.endpoint.port}" in text
        else:
            with pytest.raises(StackError, match="DRILLS_NETWORK=host"):
                kinds.of_settings(sentinel).compose("sentinel1", sentinel, ctx)
