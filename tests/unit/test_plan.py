import dataclasses
from pathlib import Path

import pytest

from drills.catalogue import CATALOGUE
from drills.errors import PlanError
from drills.plan import default_plan_path, load_plan
from drills.runtime.choose import RUNTIMES as ALL_RUNTIMES

RUNTIMES = tuple(r for r in ALL_RUNTIMES if r != "auto")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def test_default_plan_covers_every_scenario() -> None:
    plan = load_plan()
    everywhere = {n for n, info in CATALOGUE.items() if set(info.runtimes) == set(RUNTIMES)}
    assert set(plan.scenarios) == everywhere
    # the plans of one family each: subsets of the default plan
    for name in ("failover.yaml", "storage.yaml", "smoke.yaml"):
        assert set(load_plan(default_plan_path().with_name(name)).scenarios) <= everywhere
    assert plan.path == default_plan_path()
    assert len(plan.sha256) == 64


def test_durations_defaults_and_params(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, """
defaults:
  workload: {users: 3, warmup: 1500ms}
  probe: {interval: 20ms}
scenarios:
  postgres-freeze:
    params: {freeze_s: 2.5}
    targets: {rto: 15m, rpo: 0, max_lost_writes: 0}
    workload: {hold: 1m}
"""))
    sc = plan.scenario("postgres-freeze")
    assert sc.targets.rto_s == 900.0
    assert sc.targets.rpo_s == 0.0
    assert sc.targets.max_lost_writes == 0
    assert sc.workload.users == 3
    assert sc.workload.warmup_s == 1.5
    assert sc.workload.hold_s == 60.0
    assert sc.probe.interval_s == pytest.approx(0.02)
    assert sc.params == {"freeze_s": 2.5}


def test_param_defaults_come_from_the_catalogue(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, "scenarios:\n  silent-loss: {targets: {rto: 1m}}\n"))
    assert plan.scenario("silent-loss").params == {"delete_count": 25}


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("scenarios:\n  postgres-kill:\n    targets: {rto: 30s, rpo_s: 0}\n",
         "scenarios.postgres-kill.targets.rpo_s",
         "allowed: rto, rpo, max_lost_writes, availability, p99_latency"),
        ("scenarios:\n  postgres-kil: {targets: {rto: 1s}}\n", "scenarios.postgres-kil",
         "known: postgres-kill"),
        ("scenarios:\n  postgres-kill:\n    targets: {rto: soon}\n",
         "scenarios.postgres-kill.targets.rto", "cannot read duration"),
        ("scenarios:\n  postgres-kill:\n    targets: {max_lost_writes: 1.5}\n",
         "scenarios.postgres-kill.targets.max_lost_writes", "integer"),
        ("scenarios:\n  silent-loss:\n    params: {freeze_s: 1}\n"
         "    targets: {rto: 1s}\n",
         "scenarios.silent-loss.params.freeze_s", "allowed: delete_count"),
        ("defaults:\n  workload: {users: 0}\nscenarios:\n  postgres-kill: {targets: {rto: 1s}}\n",
         "defaults.workload.users", "at least 1"),
        ("version: 3\nscenarios:\n  postgres-kill: {targets: {rto: 1s}}\n", "version",
         "allowed: 1"),
        ("scenarios:\n  postgres-kill:\n    workload: {remote_workers: 2}\n"
         "    targets: {rto: 1s}\n",
         "scenarios.postgres-kill.workload.master", "0.0.0.0:5557"),
        ("scenarios:\n  postgres-kill:\n    workload: {workers: 2, master: here}\n"
         "    targets: {rto: 1s}\n",
         "scenarios.postgres-kill.workload.master", "not host:port"),
        ("scenarios:\n  postgres-kill:\n    workload: {workers: 4, users: 3}\n"
         "    targets: {rto: 1s}\n",
         "scenarios.postgres-kill.workload.users", "at least one user"),
        ("scenarios:\n  postgres-kill:\n    workload: {workers: 1.5}\n"
         "    targets: {rto: 1s}\n",
         "scenarios.postgres-kill.workload.workers", "integer"),
        ("scenarioz:\n  postgres-kill: {}\n", "scenarioz", "unknown key"),
        ("scenarios: {}\n", "scenarios", "at least one scenario"),
        ("scenarios: [postgres-kill]\n", "scenarios", "at least one scenario"),
    ],
)
def test_bad_plans_name_file_and_key(tmp_path: Path, text: str, key: str, hint: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert info.value.key == key
    assert str(path) in str(info.value)
    assert hint in str(info.value)


def test_distributed_load_settings(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, """
scenarios:
  postgres-kill:
    workload: {users: 8, workers: 2, remote_workers: 1, master: "0.0.0.0:5557"}
    targets: {rto: 1s}
  redis-kill: {targets: {rto: 1s}}
"""))
    load = plan.scenario("postgres-kill").workload
    assert (load.workers, load.remote_workers, load.master) == (2, 1, "0.0.0.0:5557")
    assert load.distributed and load.to_dict()["workers"] == 2
    single = plan.scenario("redis-kill").workload
    assert not single.distributed and "workers" not in single.to_dict()  # digests unchanged


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the plan"):
        load_plan(tmp_path / "missing.yaml")
    with pytest.raises(PlanError, match="not valid YAML"):
        load_plan(write(tmp_path, "scenarios: [\n"))


def test_scenario_not_in_plan(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, "scenarios:\n  postgres-kill: {targets: {rto: 1s}}\n"))
    with pytest.raises(PlanError, match="it has: postgres-kill"):
        plan.scenario("redis-kill")


def test_example_plans_in_fixtures_load() -> None:
    plans = sorted((Path(__file__).parents[2] / "fixtures" / "plans").glob("*.yaml"))
    assert plans
    for path in plans:
        plan = load_plan(path)
        assert plan.scenarios, path
    bot = load_plan(plans[0])
    assert bot.scenario("postgres-kill").targets.rpo_s == 900.0


def test_service_level_targets(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, """
scenarios:
  app-postgres-latency:
    params: {latency_ms: 150}
    targets: {availability: 99.5%, p99_latency: 400ms}
  app-redis-kill:
    targets: {availability: 0.999}
"""))
    latency = plan.scenario("app-postgres-latency")
    assert latency.targets.availability == pytest.approx(0.995)
    assert latency.targets.p99_latency_s == pytest.approx(0.4)
    assert latency.params["latency_ms"] == 150 and latency.params["duration_s"] == 5.0
    assert plan.scenario("app-redis-kill").targets.availability == pytest.approx(0.999)


@pytest.mark.parametrize(("value", "message"), [
    ("99.5", "write a percentage such as '99.5%'"),  # a string that is no percentage
    (99.5, "more than 1: write '99.5%'"),
    ("101%", "at most 100"),
    ("-1%", "at least 0"),
    ("abc%", "cannot read 'abc%'"),
])
def test_availability_is_a_share(tmp_path: Path, value: object, message: str) -> None:
    text = f"scenarios:\n  app-redis-kill:\n    targets: {{availability: {value!r}}}\n" \
        if isinstance(value, str) else \
        f"scenarios:\n  app-redis-kill:\n    targets: {{availability: {value}}}\n"
    with pytest.raises(PlanError) as info:
        load_plan(write(tmp_path, text))
    assert "scenarios.app-redis-kill.targets.availability" in str(info.value)
    assert message in str(info.value)


def test_the_smoke_plan_runs_the_default_plans_calibrations_as_they_are() -> None:
    """`make check` drills the calibrations with the default plan's own settings, so that a
    calibration broken in the default plan is broken in the smoke plan too."""
    default = load_plan()
    smoke = load_plan(default_plan_path().with_name("smoke.yaml"))
    assert {"silent-loss", "postgres-freeze", "postgres-failover-lag"} <= set(smoke.scenarios)
    for name in smoke.scenarios:
        # regression limits and audit controls belong to a plan's history, not to the drill
        assert dataclasses.replace(smoke.scenario(name), regression=None, controls=()) == \
            dataclasses.replace(default.scenario(name), regression=None, controls=()), name
