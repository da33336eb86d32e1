"""A team's MongoDB in its own compose file (examples/catalog-mongodb, seed plan 001).

drills' ledger lives in the team's server; the team's own scripts take the daily dump and
restore it. Here the image is drills' offline stand-in (FerretDB over PostgreSQL, the mongo
image's contract), so the scripts take their FerretDB branch (pg_dump / pg_restore); with
the official mongo:7 image they run mongodump / mongorestore, which no machine here has.
"""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path

import pytest

from drills.stack.ports import free_port
from tests.integration.conftest import REPO, drill_cli

pytestmark = pytest.mark.slow

PLAN = REPO / "examples" / "catalog-mongodb" / "drill-plan.yaml"


def team_env() -> dict[str, str]:
    return {"CATALOG_MONGO_PASSWORD": secrets.token_hex(12), "DRILLS_IMAGES": "offline",
            "CATALOG_NETWORK_MODE": "host", "CATALOG_BIND": "127.0.0.1",
            "DRILLS_MONGODB_IMAGE": "drills/mongodb:ferretdb-1.24", "CATALOG_MONGO_AUTH": "PLAIN",
            "CATALOG_MONGO_PORT": str(free_port())}


@pytest.mark.compose
def test_a_teams_mongodb_crash_and_database_loss(tmp_path: Path) -> None:
    env = team_env()
    check = drill_cli("check", str(PLAN), env=env)
    assert check.returncode == 1, check.stdout + check.stderr  # the daily dump vs RPO 1 h
    assert "scenarios.database-loss.targets.rpo" in check.stdout
    run_id = f"itest-team-mongodb-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(PLAN), "--out", str(tmp_path), "--run-id", run_id,
                     env=env, timeout=900)
    output = done.stdout[-4000:] + done.stderr[-3000:]
    summary = json.loads((tmp_path / run_id / "summary.json").read_text())
    found = {s["name"]: s for s in summary["scenarios"]}
    crash = found["mongo-crash"]
    assert crash["verdict"] == "pass" and crash["lost_writes"] == 0, output
    assert crash["runtime"] == "compose" and crash["acked_writes"] > 500
    # the run's verdict says what drill check said: the plan's own RPO gap fails it, and
    # nothing else does
    assert done.returncode == 1, output
    loss = found["database-loss"]
    assert {t["key"] for t in loss["targets"] if t["verdict"] != "pass"} == {"plan.rpo"}, \
        loss["targets"]
    (backup,) = loss["backups"]
    assert backup["verified"] and backup["files"][0].endswith(".ferretdb.dump")
    assert loss["restore"]["backup"] == backup["name"]
    assert loss["restore"]["missing_before_point"] == 0
    assert loss["restore"]["lost_after_point"] == loss["lost_writes"] > 0
    log = (tmp_path / run_id / "database-loss" / "logs" / "procedure-02-restore-mongo.log")
    assert "Restarting" in log.read_text()  # FerretDB forgets the collections it had seen


def test_a_mongodb_check_counts_the_teams_documents(tmp_path: Path) -> None:
    """A plan's `mongodb:` check, against a real server (the local stand-in)."""
    from drills.kinds.mongodb import store
    from drills.kinds.mongodb.settings import MongoSettings
    from drills.measure.verdict import Verdict
    from drills.plan.scenario_spec import Bound, CheckKind, CheckSpec
    from drills.plan_drill.checks import run_check
    from drills.runtime.local import LocalRuntime
    from drills.stack.stack import Stack

    runtime = LocalRuntime("itest-mongo-check", tmp_path / "logs")
    with Stack(runtime, runtime.services({"catalog": MongoSettings()})) as stack:
        endpoint = stack["catalog"].endpoint
        with store.client(endpoint) as c:
            c["shop"]["products"].insert_many(
                [{"_id": n, "price": n * 10} for n in range(1, 6)])
        request = json.dumps({"database": "shop", "count": "products",
                              "filter": {"price": {"$gte": 30}}})

        def check(bound: Bound) -> tuple[Verdict | None, str, object]:
            return run_check(CheckSpec(CheckKind.MONGODB, service="catalog", query=request,
                                       bound=bound, timeout_s=2.0),
                             {"catalog": stack["catalog"]},
                             "catalog", {})

        assert check(Bound(equals=3)) == (Verdict.PASS, "answered 3 (wanted = 3)", 3)
        assert check(Bound(at_least=4))[0] is Verdict.FAIL
        stack["catalog"].kill()
        stack["catalog"].wait_exit(10)
        verdict, seen, _ = check(Bound(equals=3))
        assert verdict is Verdict.FAIL and seen.startswith("no answer")
