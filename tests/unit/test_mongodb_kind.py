"""The mongodb kind without a server: its settings, a team's MongoDB in a plan, the extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pymongo import errors

from drills import kinds
from drills.errors import PlanError, UsageError
from drills.kinds.mongodb.settings import MongoSettings
from drills.plan import load_plan
from drills.stack.endpoint import Endpoint


def test_write_concern_settings() -> None:
    assert MongoSettings().client_options() == (("w", "1"), ("j", "true"),
                                                ("readPreference", "primary"))
    assert MongoSettings(w="majority", j=False).conf()["j"] == "false"
    with pytest.raises(ValueError, match="w=0 is refused"):
        MongoSettings(w=0)
    with pytest.raises(ValueError, match="w True"):
        MongoSettings(w=True)
    with pytest.raises(ValueError, match="read_preference 'fastest'"):
        MongoSettings(read_preference="fastest")


def test_the_endpoint_carries_its_login_and_write_concern_to_the_load_generator() -> None:
    endpoint = Endpoint("mongodb", "127.0.0.1", 27017, "s3cret", "drills", "drills",
                        auth="PLAIN", client_options=MongoSettings(j=False).client_options())
    again = Endpoint.from_env(endpoint.to_env())
    assert again == endpoint and hash(again) == hash(endpoint)
    assert endpoint.public()["password"] == "<redacted>"


PLAN = """
version: 2
stack:
  compose: compose.yaml
  services:
    orders-db:
      kind: mongodb
      reach: {host: 127.0.0.1, port: 27017, user: root, password: {env: MONGO_PASSWORD}%s}
scenarios:
  kill: {fault: {kill: orders-db}, recovery: [{restart: orders-db}], targets: {rto: 1m}}
"""


def plan_text(tmp_path: Path, reach_extra: str = "") -> Path:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN % reach_extra)
    return path


def test_a_teams_mongodb_holds_the_ledger(tmp_path: Path) -> None:
    plan = load_plan(plan_text(tmp_path, ", auth: PLAIN"))
    assert plan.stack is not None
    service = plan.stack.services["orders-db"]
    assert service.reach is not None and service.reach.auth == "PLAIN"
    assert plan.scenarios["kill"].ledger == "orders-db"


@pytest.mark.parametrize("extra, key, says", [
    (", auth: GSSAPI", "stack.services.orders-db.reach.auth", "logs in with one of"),
])
def test_a_wrong_login_names_the_key(tmp_path: Path, extra: str, key: str, says: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(plan_text(tmp_path, extra))
    assert caught.value.key == key and says in caught.value.problem


def test_mongodb_needs_a_user_and_password(tmp_path: Path) -> None:
    path = plan_text(tmp_path)
    path.write_text(path.read_text().replace(", password: {env: MONGO_PASSWORD}", ""))
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.key == "stack.services.orders-db.reach.password"
    assert "MongoDB needs user and password" in caught.value.problem


def test_a_kind_with_one_way_of_logging_in_refuses_auth(tmp_path: Path) -> None:
    path = plan_text(tmp_path, ", auth: PLAIN")
    path.write_text(path.read_text().replace("kind: mongodb", "kind: postgres")
                    .replace("user: root", "user: root, database: d"))
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.key == "stack.services.orders-db.reach.auth"
    assert "leave auth out" in caught.value.problem


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in [m for m in sys.modules if m == "pymongo" or m.startswith("pymongo.")
                   or m == "drills.kinds.mongodb.store"]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "pymongo", None)  # import pymongo: ModuleNotFoundError
    with pytest.raises(UsageError) as caught:
        kinds.get("mongodb").store()
    assert "pip install 'drills[mongodb]'" in str(caught.value)
    assert "pymongo is not installed" in str(caught.value)


def test_the_teams_mongodb_example_reads_as_written() -> None:
    plan = load_plan(Path(__file__).resolve().parents[2] / "examples" / "catalog-mongodb"
                     / "drill-plan.yaml")
    assert plan.stack is not None and plan.stack.own
    reach = plan.stack.services["mongo"].reach
    assert reach is not None and reach.auth == "${CATALOG_MONGO_AUTH:-SCRAM-SHA-256}"
    assert set(plan.scenarios) == {"mongo-crash", "database-loss"}


def test_a_login_left_to_the_environment_must_be_well_formed(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(plan_text(tmp_path, ', auth: "${MONGO_AUTH"'))
    assert caught.value.key == "stack.services.orders-db.reach.auth"


def test_a_mongodb_check_reads_as_a_count(tmp_path: Path) -> None:
    path = plan_text(tmp_path)
    check = ("    checks: [{mongodb: {database: shop, count: orders, filter: {status: paid, "
             "total: {$gte: 10}}}, service: orders-db, at_least: 1}]\n")
    path.write_text(path.read_text().replace(
        "  kill: {fault: {kill: orders-db}, recovery: [{restart: orders-db}], "
        "targets: {rto: 1m}}\n",
        "  kill:\n    fault: {kill: orders-db}\n    recovery: [{restart: orders-db}]\n"
        "    targets: {rto: 1m}\n" + check))
    (spec,) = load_plan(path).scenarios["kill"].checks
    assert spec.describe() == ('on orders-db: count of {"count": "orders", "database": "shop", '
                               '"filter": {"status": "paid", "total": {"$gte": 10}}} >= 1')
    path.write_text(path.read_text().replace("database: shop, ", ""))
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.key == "scenarios.kill.checks[0].mongodb.database"


def test_drill_check_names_the_stand_in() -> None:
    from drills.plan.preview import scenario_lines

    plan = load_plan()
    lines = scenario_lines(plan, plan.scenarios["mongodb-kill"])
    assert any(line.startswith("  server: on the local runtime, FerretDB v1.24.2") and
               "not WiredTiger's" in line for line in lines), lines
    assert not any(line.startswith("  server:")
                   for line in scenario_lines(plan, plan.scenarios["redis-kill"]))


def _writer_raising(monkeypatch: pytest.MonkeyPatch, exc: BaseException | None) -> object:
    """A MongoWriter whose insert raises ``exc`` (a stub client; no server)."""
    from drills.kinds.mongodb import store

    class Collection:
        def insert_one(self, doc: dict[str, object]) -> object:
            if exc is not None:
                raise exc
            return type("Result", (), {"acknowledged": True})()

    class Client:
        def __getitem__(self, name: str) -> dict[str, Collection]:
            return {store.LEDGER: Collection()}

        def close(self) -> None:
            pass

    monkeypatch.setattr(store, "client", lambda *a, **k: Client())
    return store.writer(Endpoint("mongodb", "127.0.0.1", 1, "x", "drills", "drills"))


@pytest.mark.parametrize("error, outcome", [
    (errors.ServerSelectionTimeoutError("no server"), "fail"),  # never sent
    (errors.AutoReconnect("connection closed"), "unknown"),  # sent, no answer
    (errors.NetworkTimeout("timed out"), "unknown"),
    (errors.WriteError("E11000 duplicate key", 11000, {}), "fail"),  # the document refused
    # applied; the wait for the journal or the replicas failed
    (errors.WriteConcernError("waiting for replication timed out", 64, {}), "unknown"),
    (errors.OperationFailure("not authorized", 13), "fail"),  # refused before it ran
    (errors.OperationFailure("interrupted at shutdown", 11600), "unknown"),
    # FerretDB: its PostgreSQL died under the commit (it may have committed), or was not there
    (errors.OperationFailure("x", 1, {"errmsg": "terminating connection (SQLSTATE 57P01)"}),
     "unknown"),
    (errors.OperationFailure("x", 1, {"errmsg": "failed to connect to `user=drills`"}), "fail"),
    (None, "ok"),
])
def test_a_writes_outcome_is_what_the_error_proves(monkeypatch: pytest.MonkeyPatch,
                                                   error: Exception | None,
                                                   outcome: str) -> None:
    from drills.datastore import NotSent, Rejected

    writer = _writer_raising(monkeypatch, error)
    try:
        writer.write(7, "v")  # type: ignore[attr-defined]
        seen = "ok"
    except (NotSent, Rejected):
        seen = "fail"
    except Exception:
        seen = "unknown"
    assert seen == outcome
