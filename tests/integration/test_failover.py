"""Failover by hand, for real: the failover plan with `drill run`, then each claim checked.

Local runtime (the compose runtime's replica is not built yet: ScenarioInfo.runtimes). A
split brain is also driven in-process, with an independent read of the old primary's
table before it rejoins, against which the drill's own account is checked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from drills import Drill, Fence, Partition, Promote, Rejoin, Repoint
from drills.plan import default_plan_path, load_plan
from drills.scenarios.test_postgres_failover import replicated
from drills.stack.capabilities import CarriesLinks, require
from drills.stack.local import LocalRuntime
from drills.stack.service import Service
from tests.integration.conftest import drill_cli, processes_mentioning

FAILOVER_PLAN = default_plan_path().with_name("failover.yaml")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("reports")
    run_id = "itest-failover-local"
    done = drill_cli("run", "--plan", str(FAILOVER_PLAN), "--runtime", "local", "--out",
                     str(out), "--run-id", run_id)
    run_dir = out / run_id
    assert (run_dir / "summary.json").exists(), done.stdout + done.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    return {"done": done, "dir": run_dir, "summary": summary,
            "by_name": {s["name"]: s for s in summary["scenarios"]}}


def test_every_failover_scenario_passed(run: dict[str, Any]) -> None:
    assert set(run["by_name"]) == set(load_plan(FAILOVER_PLAN).scenarios)
    failed = {n: s["verdict"] for n, s in run["by_name"].items() if s["verdict"] != "pass"}
    assert failed == {}, run["done"].stdout[-3000:]
    assert run["done"].returncode == 0
    assert processes_mentioning("itest-failover-local") == []


def test_roles_and_lag_are_on_the_record(run: dict[str, Any]) -> None:
    for name, s in run["by_name"].items():
        rep = s["replication"]
        before = rep["roles_before"]
        assert sorted(before.values()) == ["primary", "replica"], name
        promoted = next(m for m, role in before.items() if role == "replica")
        assert rep["promoted"] == promoted, name
        assert rep["roles_after"][promoted] == "primary", name
        assert rep["samples"] > 10
        lag = {m["service"]: m for m in rep["lag_at_fault"]}
        assert lag[promoted]["sampled_before_fault_s"] < 1.0
        assert lag[promoted]["lag_bytes"] is not None
        steps = [t["key"] for t in s["targets"]]
        assert "rpo_s" in steps and "integrity" in steps


def test_synchronous_replication_loses_nothing(run: dict[str, Any]) -> None:
    s = run["by_name"]["postgres-failover-sync"]
    assert s["lost_writes"] == 0
    assert s["acked_writes"] > 1000
    assert s["replication"]["roles_after"]["postgres"] == "down"


def test_the_injected_delay_is_the_rpo(run: dict[str, Any]) -> None:
    s = run["by_name"]["postgres-failover-lag"]
    delay = load_plan(FAILOVER_PLAN).scenarios["postgres-failover-lag"].params["delay_ms"] / 1000
    row = next(t for t in s["targets"] if t["key"] == "calibration.replication_lag")
    assert row["verdict"] == "pass"
    assert s["rpo"]["lost_before_fault"] > 0
    assert abs(s["rpo_s"] - delay) <= 0.25
    # the lag the primary measured at the fault explains the loss
    replica = next(m for m in s["replication"]["lag_at_fault"] if m["service"] == "replica")
    assert abs(replica["lag_s"] - delay) <= 0.25
    assert replica["lag_bytes"] > 0


def test_split_brain_is_its_own_class(run: dict[str, Any]) -> None:
    s = run["by_name"]["postgres-split-brain"]
    split = s["replication"]["split_brain"]
    split_s = load_plan(FAILOVER_PLAN).scenarios["postgres-split-brain"].params["split_s"]
    assert split["demoted"] == "postgres"
    assert split["demoted_lost"] > 0
    assert split["two_primaries_s"] >= split_s
    assert split["demoted_lost"] + split["isolated_lost"] == s["rpo"]["lost_after_fault"]
    assert s["replication"]["roles_after"] == {"postgres": "replica", "replica": "primary"}


def phases(s: dict[str, Any]) -> dict[str, float]:
    return {p["name"]: p["duration_s"] for p in s["rto"]["phases"]}


def test_sentinel_fails_over_by_itself(run: dict[str, Any]) -> None:
    s = run["by_name"]["redis-sentinel-failover"]
    seen = phases(s)
    odown = seen["recovery: sentinel: +odown"]
    down_after = load_plan(FAILOVER_PLAN).scenarios["redis-sentinel-failover"] \
        .params["down_after_ms"] / 1000
    assert odown >= down_after  # the Sentinel cannot call it down sooner
    assert seen["recovery: sentinel: +switch-master"] > 0
    assert s["rto_s"] >= odown
    assert s["replication"]["roles_after"] == {"redis": "down", "replica": "primary"}


def test_patroni_fails_over_and_switches_over_without_loss(run: dict[str, Any]) -> None:
    failover, switch = run["by_name"]["patroni-failover"], run["by_name"]["patroni-switchover"]
    ttl = load_plan(FAILOVER_PLAN).scenarios["patroni-failover"].params["ttl"]
    assert failover["lost_writes"] == switch["lost_writes"] == 0
    assert failover["acked_writes"] > 1000 and switch["acked_writes"] > 1000
    elected = phases(failover)["recovery: patroni: a new leader elected and promoted"]
    # the killed leader's key expires after at most ttl; loop_wait 1 s to notice it
    assert ttl - 5 <= elected <= ttl + 3
    assert switch["rto_s"] < failover["rto_s"]


def test_a_sentinel_quorum_that_never_elects_fails_with_its_reason(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    text = FAILOVER_PLAN.read_text()
    plan.write_text(text.replace("recovery_timeout: 60s", "recovery_timeout: 8s").replace(
        "params: {down_after_ms: 500}", "params: {down_after_ms: 500, quorum: 2}"))
    done = drill_cli("run", "--plan", str(plan), "--runtime", "local", "--scenario",
                     "redis-sentinel-failover", "--out", str(tmp_path / "out"),
                     "--run-id", "itest-noquorum", timeout=300)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((tmp_path / "out" / "itest-noquorum" / "summary.json").read_text())
    s = summary["scenarios"][0]
    assert s["verdict"] == "fail"
    failed = [t for t in s["targets"] if t["verdict"] == "fail"]
    assert any("NOQUORUM" in t["reason"] for t in failed), failed
    assert processes_mentioning("itest-noquorum") == []


def test_verify_recomputes_the_failover_figures(run: dict[str, Any]) -> None:
    done = drill_cli("verify", str(run["dir"]))
    assert done.returncode == 0, done.stdout + done.stderr


def _ids(service: Service) -> set[int]:
    ep = service.endpoint
    with psycopg.connect(host=ep.host, port=ep.port, user=ep.user, dbname=ep.database,
                         password=ep.password, connect_timeout=5) as conn:
        return {int(r[0]) for r in conn.execute("SELECT id FROM drill_writes WHERE id > 0")}


def test_split_brain_matches_an_independent_read(tmp_path: Path) -> None:
    """The old primary's table, read by the test before the rewind, against the drill's account."""
    plan = load_plan(FAILOVER_PLAN)
    scenario = plan.scenarios["postgres-split-brain"]
    seen: dict[str, set[int]] = {}
    with Drill(scenario, plan, "itest-split-brain", tmp_path, LocalRuntime) as drill:
        stack, cluster = replicated(drill, via_proxy=True)
        primary, replica = stack["postgres"], stack["replica"]
        link = require(stack["toxiproxy"], CarriesLinks, "partition").link("replica", "postgres")
        with drill.load(cluster):
            drill.watch_replication(primary, replica)
            drill.warm_up()
            with drill.fault(Partition(link, "down")):
                drill.recover(Promote(replica))
                drill.wait(2.0, "split brain")
                drill.recover(Fence(primary))
                drill.recover(Repoint(cluster, replica))
                drill.read_demoted(primary)
                seen["old"], seen["new"] = _ids(primary), _ids(replica)
                drill.recover(Rejoin(primary, replica))
            drill.wait_for_service()
        result = drill.conclude()
    assert result.writes is not None and result.replication is not None
    split = result.replication.split_brain
    assert split is not None
    only_old = seen["old"] - seen["new"]
    lost = set(result.writes.lost)
    # every lost write the old primary holds is in the drill's two classes, and nothing else
    assert len(lost & only_old) == split.demoted_lost + split.isolated_lost > 0
    assert set(split.demoted_lost_ids) <= only_old
    # what else only the old primary holds was never acknowledged (in doubt), not lost
    assert len(only_old - lost) <= result.writes.unknown
