"""A team's replicated PostgreSQL in a version 2 plan: roles, failover steps, its own script.

examples/replicated-postgres holds both plans a team would write:

drill-plan.yaml     drills' own servers (both runtimes): a primary and two replicas with
                    ``ANY 1``; the most advanced replica promoted, the team's failover
                    script as a procedure step, and the old primary rewound as a replica
compose-plan.yaml   the team's own compose file: a primary and an asynchronous hot standby
                    cloned with ``pg_basebackup -R``; the team's failover script and
                    drills' promote

and one mistake teams make: a standby cloned with a passfile that is gone afterwards never
streams, and a failover to it loses everything. drills must say so before the loss does.
"""

from __future__ import annotations

import json
import secrets
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from drills.stack.ports import free_port
from tests.integration.conftest import REPO, drill_cli

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "examples" / "replicated-postgres"
RUNTIMES = ["local", pytest.param("compose", marks=pytest.mark.compose)]


def run_plan(plan: Path, out: Path, runtime: str, *scenarios: str,
             env: dict[str, str] | None = None) -> tuple[int, str, dict[str, Any], Path]:
    run_id = f"itest-plan-failover-{uuid.uuid4().hex[:6]}"
    picked = [arg for name in scenarios for arg in ("--scenario", name)]
    done = drill_cli("run", "--plan", str(plan), "--runtime", runtime, "--out", str(out),
                     "--run-id", run_id, *picked, env={"DRILLS_IMAGES": "offline", **(env or {})},
                     timeout=900)
    summary = json.loads((out / run_id / "summary.json").read_text())
    by_name = {s["name"]: s for s in summary["scenarios"]}
    return done.returncode, done.stdout[-4000:] + done.stderr[-3000:], by_name, out / run_id


def rows(scenario: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in scenario["targets"]}


def step_end(scenario_dir: Path, prefix: str) -> dict[str, Any]:
    journal = json.loads((scenario_dir / "journal.json").read_text())
    events = journal["events"] if isinstance(journal, dict) else journal
    return next(e["data"] for e in events
                if e["kind"] == "step.end" and e["name"].startswith(prefix))


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_drills_own_replicas_any_1(tmp_path: Path, runtime: str) -> None:
    code, output, found, run_dir = run_plan(EXAMPLE / "drill-plan.yaml", tmp_path, runtime)
    assert code == 0, output
    for name, scenario in found.items():
        assert scenario["verdict"] == "pass", (name, scenario["targets"])
        repl = scenario["replication"]
        assert repl["roles_before"] == {"db": "primary", "db-a": "replica", "db-b": "replica"}
        assert all(m.get("streaming") for m in repl["lag_at_fault"] if m["role"] == "replica")
        assert rows(scenario)["max_lost_writes"]["measured"].startswith("0 of ")
    # the most advanced replica: the one with the furthest received position
    promoted = step_end(run_dir / "primary-lost", "promote the most advanced")
    positions = promoted["candidates"]
    assert set(positions) == {"db-a", "db-b"}
    assert positions[promoted["service"]] == max(p for p in positions.values() if p is not None)
    assert found["primary-lost"]["replication"]["promoted"] == promoted["service"]
    # the team's script compared both replicas and promoted one: the first seen as primary
    script_log = (run_dir / "team-failover-script" / "logs" / "procedure-01-failover.log"
                  ).read_text().splitlines()
    assert sum("received up to" in line for line in script_log) == 2, script_log
    assert script_log[-2].startswith("promoting ") and script_log[-1] == "t", script_log
    assert found["team-failover-script"]["replication"]["promoted"] in ("db-a", "db-b")
    # the old primary rewound and following the promoted replica
    rejoins = found["old-primary-rejoins"]["replication"]
    assert rejoins["promoted"] in ("db-a", "db-b")
    assert rejoins["roles_after"]["db"] == "replica"
    assert rejoins["roles_after"][rejoins["promoted"]] == "primary"
    assert step_end(run_dir / "old-primary-rejoins", "rejoin db")["role_after"] == "replica"


def team_env() -> dict[str, str]:
    return {"SHOP_DB_PASSWORD": secrets.token_hex(12),
            "SHOP_REPLICATION_PASSWORD": secrets.token_hex(12),
            "SHOP_NETWORK_MODE": "host", "SHOP_BIND": "127.0.0.1",
            "SHOP_PRIMARY_HOST": "127.0.0.1",
            "SHOP_DB_PORT": str(free_port()), "SHOP_REPLICA_PORT": str(free_port())}


@pytest.mark.compose
def test_a_teams_own_primary_and_standby(tmp_path: Path) -> None:
    code, output, found, run_dir = run_plan(EXAMPLE / "compose-plan.yaml", tmp_path,
                                            "compose", env=team_env())
    assert code == 0, output
    for name in ("primary-lost", "promote-standby"):
        scenario = found[name]
        assert scenario["verdict"] == "pass", (name, scenario["targets"])
        repl = scenario["replication"]
        assert repl["roles_after"] == {"db": "down", "replica": "primary"}
        assert repl["promoted"] == "replica"
        assert "REPLICA_NOT_STREAMING" not in {f["code"] for f in scenario["findings"]}
    script_log = run_dir / "primary-lost" / "logs" / "procedure-01-failover.log"
    assert script_log.read_text().split() == ["t"]  # pg_promote() answered true


@pytest.mark.compose
def test_a_standby_that_never_streams_is_named_before_the_loss(tmp_path: Path) -> None:
    team = tmp_path / "team"
    shutil.copytree(EXAMPLE, team)
    entry = team / "scripts" / "replica-entrypoint.sh"
    # the mistake: the password in a passfile, removed once cloned; -R does not keep it
    entry.write_text(entry.read_text().replace(
        'PGPASSWORD="$REPLICATION_PASSWORD" setpriv',
        "printf '*:*:*:replicator:%s\\n' \"$REPLICATION_PASSWORD\" > /tmp/pgpass && "
        "chown postgres /tmp/pgpass && chmod 600 /tmp/pgpass && PGPASSFILE=/tmp/pgpass setpriv"
    ).replace("--checkpoint=fast\n", "--checkpoint=fast\n  rm /tmp/pgpass\n"))
    assert "rm /tmp/pgpass" in entry.read_text()
    plan = team / "compose-plan.yaml"  # the probe never passes there: do not wait a minute
    plan.write_text(plan.read_text().replace("  promote-standby:\n",
                                             "  promote-standby:\n    recovery_timeout: 10s\n"))
    code, output, found, run_dir = run_plan(team / "compose-plan.yaml", tmp_path / "out",
                                            "compose", "promote-standby", env=team_env())
    assert code == 1, output
    scenario = found["promote-standby"]
    assert scenario["verdict"] == "fail"
    standby = next(m for m in scenario["replication"]["lag_at_fault"]
                   if m["service"] == "replica")
    assert standby["streaming"] is False
    codes = {f["code"] for f in scenario["findings"]}
    assert "REPLICA_NOT_STREAMING" in codes
    assert rows(scenario)["rpo_s"]["verdict"] == "fail"  # the ledger never reached it
    assert "replica, NOT streaming" in (run_dir / "index.html").read_text()
