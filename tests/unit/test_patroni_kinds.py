"""The hot-standby kinds without servers: settings, patroni.yml, haproxy.cfg, compose specs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from drills import kinds
from drills.errors import StackError
from drills.kinds.etcd import EtcdSettings
from drills.kinds.haproxy import HaproxySettings
from drills.kinds.haproxy.config import Backend, haproxy_cfg
from drills.kinds.patroni import PatroniSettings
from drills.kinds.patroni.member import leader_of
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.service import Service


def test_patroni_timing_follows_patronis_rules() -> None:
    assert PatroniSettings().dynamic()["ttl"] == 20
    with pytest.raises(StackError, match="ttl=10: Patroni's minimum is 20"):
        PatroniSettings(ttl=10)
    with pytest.raises(StackError, match=r"loop_wait \+ 2 \* retry_timeout <= ttl"):
        PatroniSettings(ttl=20, loop_wait=10, retry_timeout=10)
    with pytest.raises(StackError, match="scope"):
        PatroniSettings(scope="Not A Scope")
    assert PatroniSettings(postgres={"max_connections": "50"}).parameters()[
        "max_connections"] == "50"


def test_haproxy_checks_only_what_patroni_answers() -> None:
    with pytest.raises(StackError, match="use one of primary"):
        HaproxySettings(backends=("pg1",), check="master-ish")
    text = haproxy_cfg("lb", "127.0.0.1", 5000, 5001, "primary",
                       [Backend("pg1", "127.0.0.1", 6001, 7001),
                        Backend("pg2", "127.0.0.1", 6002, 7002)])
    assert "    bind 127.0.0.1:5000\n" in text
    assert "    option httpchk OPTIONS /primary\n" in text
    assert "    http-check expect status 200\n" in text
    assert "inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions" in text
    assert "    server pg2 127.0.0.1:6002 check port 7002\n" in text


def test_leader_of_a_cluster_answer() -> None:
    assert leader_of({"members": [{"name": "a", "role": "replica"},
                                  {"name": "b", "role": "leader"}]}) == "b"
    assert leader_of({"members": [{"name": "a", "role": "replica"}]}) is None


class _Runtime:
    """Enough of a ComposeRuntime to construct services (no Docker is called)."""


def compose_stack(tmp_path: Path, hostnet: bool = True) -> dict[str, Service]:
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    made: dict[str, Service] = {}
    ctx = ComposeContext(hostnet, secrets, made)
    settings = PatroniSettings(synchronous_mode=True)
    for name, wanted in (("etcd", EtcdSettings()), ("pg1", settings), ("pg2", settings),
                         ("lb", HaproxySettings(backends=("pg1", "pg2")))):
        kind = kinds.of_settings(wanted)
        spec = kind.compose(name, wanted, ctx)
        made[name] = (kind.compose_class() or ComposeService)(name, kind, _Runtime(), spec)  # type: ignore[arg-type]
    return made


def test_compose_members_share_one_cluster_and_its_passwords(tmp_path: Path) -> None:
    made = compose_stack(tmp_path)
    pg1, pg2, lb = made["pg1"], made["pg2"], made["lb"]
    assert pg1.cluster is pg2.cluster  # type: ignore[attr-defined]
    assert pg1.cluster.members == [pg1, pg2]  # type: ignore[attr-defined]
    assert pg1.endpoint.password == pg2.endpoint.password == lb.endpoint.password
    assert (pg1.endpoint.kind, pg1.endpoint.user, pg1.endpoint.database) == \
        ("postgres", "drills", "drills")
    assert lb.endpoint.port not in (pg1.endpoint.port, pg2.endpoint.port)
    one = yaml.safe_load((tmp_path / "secrets" / "pg1-patroni.yml").read_text())
    two = yaml.safe_load((tmp_path / "secrets" / "pg2-patroni.yml").read_text())
    assert one["postgresql"]["authentication"] == two["postgresql"]["authentication"]
    assert one["restapi"]["authentication"] == two["restapi"]["authentication"]
    assert one["etcd3"]["host"] == f"127.0.0.1:{made['etcd'].endpoint.port}"
    assert one["bootstrap"]["dcs"]["synchronous_mode"] is True
    assert one["bootstrap"]["post_bootstrap"] == "/bin/sh /run/secrets/post-bootstrap.sh"
    assert "host replication replicator 127.0.0.1/32 scram-sha-256" in \
        one["postgresql"]["pg_hba"]
    assert one["name"] == "pg1" and two["name"] == "pg2"
    for file in (tmp_path / "secrets").iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    cfg = (tmp_path / "secrets" / "lb-haproxy.cfg").read_text()
    assert f"server pg1 127.0.0.1:{pg1.endpoint.port} check port {pg1.rest_port}" in cfg  # type: ignore[attr-defined]


def test_compose_services_carry_their_identity(tmp_path: Path) -> None:
    made = compose_stack(tmp_path)
    etcd, lb = made["etcd"], made["lb"]
    spec: ComposeSpec = etcd.spec  # type: ignore[attr-defined]
    assert spec.command is not None and "--initial-cluster" in spec.command
    assert etcd.expect["name"] == "etcd"  # type: ignore[attr-defined]
    assert etcd.expect["peer_url"] in spec.command  # type: ignore[attr-defined]
    assert lb.backends == ("pg1", "pg2")  # type: ignore[attr-defined]
    assert lb.stats_port > 0  # type: ignore[attr-defined]


def test_compose_refuses_a_bridge_network(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="DRILLS_NETWORK=host"):
        compose_stack(tmp_path, hostnet=False)


def test_a_member_needs_its_etcd_listed_before_it(tmp_path: Path) -> None:
    ctx = ComposeContext(True, tmp_path, {})
    with pytest.raises(StackError, match="its dcs 'etcd' is not an etcd service listed "
                                         "before it"):
        kinds.get("patroni").compose("pg1", PatroniSettings(), ctx)


def test_members_of_one_scope_must_agree(tmp_path: Path) -> None:
    made = compose_stack(tmp_path)
    ctx = ComposeContext(True, tmp_path / "secrets", made)
    with pytest.raises(StackError, match="every member of a scope must be given the same"):
        kinds.get("patroni").compose("pg3", PatroniSettings(ttl=30), ctx)


def test_haproxy_needs_patroni_backends(tmp_path: Path) -> None:
    made = compose_stack(tmp_path)
    ctx = ComposeContext(True, tmp_path / "secrets", made)
    with pytest.raises(StackError, match="backend 'etcd' is not a Patroni service"):
        kinds.get("haproxy").compose("lb2", HaproxySettings(backends=("etcd",)), ctx)
    with pytest.raises(StackError, match="no backends"):
        kinds.get("haproxy").compose("lb3", HaproxySettings(), ctx)



def test_a_server_going_down_still_gets_connections() -> None:
    from drills.kinds.haproxy.server import ServerState

    assert ServerState("pg1", "UP 1/2", "L7STS").up  # one failed check of fall 2
    assert not ServerState("pg1", "DOWN 1/2", "L7OK").up  # rise not reached yet
    assert not ServerState("pg1", "UP", "INI").settled
    assert ServerState("pg1", "DOWN", "L4CON").settled
