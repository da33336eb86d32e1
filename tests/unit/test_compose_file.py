"""The compose file of a run: every service a copy of its kind's template, made its own."""

from __future__ import annotations

import stat
from pathlib import Path

from drills.kinds.postgres import KIND as POSTGRES
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis import KIND as REDIS
from drills.kinds.redis.settings import RedisSettings
from drills.runtime import compose_file
from drills.stack.compose_spec import ComposeContext
from drills.stack.ownership import Owner

LABELS = {"io.drills.run-id": "r1", **Owner.current().to_labels()}


def build(tmp_path: Path, hostnet: bool) -> dict[str, dict]:  # type: ignore[type-arg]
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    ctx = ComposeContext(hostnet, secrets)
    templates = compose_file.load_templates(compose_file.template_path())
    made = {}
    for name, kind, settings in (("orders", POSTGRES, PostgresSettings()),
                                 ("billing", POSTGRES, PostgresSettings(synchronous_commit=False)),
                                 ("cache", REDIS, RedisSettings())):
        spec = kind.compose(name, settings, ctx)
        made[name] = compose_file.service_definition(
            templates[kind.name], kind, name, spec, hostnet=hostnet, secrets_dir=secrets,
            labels=LABELS)
    return made


def test_two_services_of_one_kind_get_their_own_everything(tmp_path: Path) -> None:
    made = build(tmp_path, hostnet=False)
    orders, billing = made["orders"], made["billing"]
    assert orders["image"] == billing["image"] == POSTGRES.image()
    assert orders["volumes"][0] == {"type": "volume", "source": "orders-data",
                                    "target": "/var/lib/postgresql/data"}
    assert billing["volumes"][0]["source"] == "billing-data"
    secrets = {m["source"] for s in made.values() for m in s["volumes"] if m["type"] == "bind"}
    assert len(secrets) == 3
    assert orders["ports"] != billing["ports"]
    assert orders["ports"][0].startswith("127.0.0.1:") and orders["ports"][0].endswith(":5432")
    assert "synchronous_commit=on" in orders["command"]
    assert "synchronous_commit=off" in billing["command"]
    assert orders["labels"]["io.drills.service"] == "orders"
    assert orders["labels"]["io.drills.kind"] == "postgres"
    assert orders["labels"]["io.drills.owner-pid"] == LABELS["io.drills.owner-pid"]


def test_no_secret_in_the_definition_and_secret_files_are_private(tmp_path: Path) -> None:
    made = build(tmp_path, hostnet=True)
    text = repr(made)
    secrets = []
    for path in (tmp_path / "secrets").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        lines = path.read_text().splitlines()
        if path.name.endswith(".conf"):  # redis.conf: the requirepass line
            secrets += [ln.split(None, 1)[1] for ln in lines if ln.startswith("requirepass ")]
        else:  # a password file: the password
            secrets += lines
    assert len(secrets) == 3 and all(len(s) >= 24 for s in secrets)
    for secret in secrets:
        assert secret not in text
    assert "POSTGRES_PASSWORD" not in made["orders"]["environment"]
    assert made["orders"]["environment"]["POSTGRES_PASSWORD_FILE"] == \
        "/run/secrets/postgres-password"


def test_host_networking_binds_each_server_to_loopback(tmp_path: Path) -> None:
    made = build(tmp_path, hostnet=True)
    for service in made.values():
        assert service["network_mode"] == "host" and "ports" not in service
    assert "listen_addresses=127.0.0.1" in made["orders"]["command"]
    conf = (tmp_path / "secrets" / "cache.conf").read_text()
    assert "bind 127.0.0.1" in conf and "requirepass" in conf
    port = int(made["cache"]["environment"]["REDIS_PORT"])
    assert f"port {port}" in conf


def test_the_project_file_labels_every_volume_and_network(tmp_path: Path) -> None:
    made = build(tmp_path, hostnet=True)
    project = compose_file.project_file(made, ["orders-data", "billing-data"], LABELS,
                                        network=False)
    assert set(project["volumes"]) == {"orders-data", "billing-data"}
    assert project["volumes"]["orders-data"]["labels"]["io.drills.run-id"] == "r1"
    assert "networks" not in project  # host networking: compose makes no network
    bridged = compose_file.project_file(made, [], LABELS, network=True)
    assert bridged["networks"]["default"]["labels"] == LABELS


def test_a_refused_own_service_says_to_check_its_network() -> None:
    """A database unreachable because of its network mode: a hint, not just 'refused'."""
    from types import SimpleNamespace

    from drills.runtime.own_compose import OwnComposeService
    from drills.stack.endpoint import Endpoint

    service = object.__new__(OwnComposeService)
    service.name = "db"
    service.endpoint = Endpoint(kind="postgres", host="127.0.0.1", port=15432, password="")
    service.own = SimpleNamespace(config={"services": {"db": {"image": "postgres:15"}}})
    hint = service.unready_hint("connection failed: Connection refused")
    assert "network_mode bridge (the default)" in hint and "`ports:`" in hint
    assert "network_mode: host" in hint
    service.own.config["services"]["db"]["network_mode"] = "host"
    assert "nothing listens on 127.0.0.1:15432" in service.unready_hint("Connection refused")
    assert service.unready_hint("password authentication failed") == ""
