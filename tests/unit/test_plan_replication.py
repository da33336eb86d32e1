"""Plan version 2: a replicated stack (replica_of), and the failover steps that use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.errors import PlanError
from drills.plan import load_plan
from drills.plan.contradictions import find
from drills.plan.preview import stack_lines
from drills.plan.scenario_spec import StepAction

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "replicated-postgres"

STACK = """
version: 2
stack:
  services:
    db: {kind: postgres, synchronous_standby_names: 'ANY 1 ("db-a", db_b)'}
    db-a: {kind: postgres, replica_of: db}
    db_b: {kind: postgres, replica_of: db}
    cache: {kind: redis}
scenarios:
"""
OK = ("  x: {fault: {kill: db}, recovery: [{promote: [db-a, db_b]}, {repoint: db}], "
      "targets: {rto: 1m}}\n")


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return load_plan(path)


def test_the_examples_read_as_written() -> None:
    plan = load_plan(EXAMPLE / "drill-plan.yaml")
    assert plan.stack is not None
    assert plan.stack.replicas_of("db") == ("db-a", "db-b")
    assert plan.stack.primary_of("db-b") == "db"
    steps = plan.scenarios["primary-lost"].recovery
    assert [s.action for s in steps] == [StepAction.PROMOTE, StepAction.REPOINT]
    assert steps[0].among == ("db-a", "db-b")
    assert "most advanced of db-a, db-b" in steps[0].describe()
    assert [s.action for s in plan.scenarios["old-primary-rejoins"].recovery][-1] is \
        StepAction.REJOIN
    assert not [c for c in find(plan) if c.blocking]
    own = load_plan(EXAMPLE / "compose-plan.yaml")
    assert own.stack is not None and own.stack.own
    assert own.stack.services["replica"].replica_of == "db"
    lines = "\n".join(stack_lines(own.stack))
    assert "db: postgres, primary of replica (asynchronous)" in lines
    assert "replica: postgres, streaming replica of db" in lines


def test_replication_settings_reach_the_stack_record(tmp_path: Path) -> None:
    plan = load(tmp_path, STACK + OK)
    db = plan.stack.services["db"]  # type: ignore[attr-defined]
    assert db.replication == {"synchronous_standby_names": 'ANY 1 ("db-a", db_b)'}
    assert db.to_dict()["replication"] == dict(db.replication)
    assert "replication" not in plan.stack.services["cache"].to_dict()  # type: ignore[attr-defined]


@pytest.mark.parametrize("change, key, words", [
    (("db-a: {kind: postgres, replica_of: db}", "db-a: {kind: postgres, replica_of: db-a}"),
     "stack.services.db-a.replica_of", "names the service itself"),
    (("db-a: {kind: postgres, replica_of: db}", "db-a: {kind: postgres, replica_of: nope}"),
     "stack.services.db-a.replica_of", "not a service of the stack"),
    (("db-a: {kind: postgres, replica_of: db}", "db-a: {kind: postgres, replica_of: cache}"),
     "stack.services.db-a.replica_of", "a replica follows a primary of its own kind"),
    (("db_b: {kind: postgres, replica_of: db}", "db_b: {kind: postgres, replica_of: db-a}"),
     "stack.services.db_b.replica_of", "is itself a replica"),
    (("cache: {kind: redis}", "cache: {kind: redis, replica_of: db}"),
     "stack.services.cache.replica_of", "unknown key"),
    (('"db-a", db_b', 'db-a, db_b'), "stack.services.db.synchronous_standby_names",
     'write "db-a" in double quotes'),
    (('"db-a", db_b', '"db-a", "db-c"'), "stack.services.db.synchronous_standby_names",
     "db-c is not a replica of db"),
    (("db-a: {kind: postgres, replica_of: db}",
      "db-a: {kind: postgres, replica_of: db, synchronous_standby_names: '*'}"),
     "stack.services.db-a.synchronous_standby_names", "give it on db"),
    (("promote: [db-a, db_b]", "promote: [db, db_b]"), "scenarios.x.recovery[0].promote",
     "db is not a replica"),
    (("promote: [db-a, db_b]", "promote: []"), "scenarios.x.recovery[0].promote",
     "names no replica"),
    (("{repoint: db}", "{repoint: db-a}"), "scenarios.x.recovery[1].repoint",
     "it is a replica of db"),
    (("{repoint: db}", "{rejoin: cache}"), "scenarios.x.recovery[1].rejoin",
     "cache has no replicas"),
])
def test_invalid_replication_names_the_key(tmp_path: Path, change: tuple[str, str], key: str,
                                            words: str) -> None:
    text = STACK + OK
    assert change[0] in text
    with pytest.raises(PlanError) as caught:
        load(tmp_path, text.replace(change[0], change[1]))
    assert caught.value.key == key, str(caught.value)
    assert words in caught.value.problem, str(caught.value)


def test_a_replica_is_listed_after_its_primary_on_drills_own_servers(tmp_path: Path) -> None:
    replica = "    db-a: {kind: postgres, replica_of: db}\n"
    moved = STACK.replace(replica, "").replace("    db: {kind", replica + "    db: {kind")
    with pytest.raises(PlanError) as caught:
        load(tmp_path, moved + "  x: {fault: {kill: db}, recovery: [{promote: db_b}], "
                   "targets: {rto: 1m}}\n")
    assert caught.value.key == "stack.services.db-a.replica_of"
    assert "list db before db-a" in caught.value.problem


def test_a_teams_compose_project_keeps_its_own_replication_settings(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    reach = "reach: {host: 127.0.0.1, port: 5432, user: u, database: d}"
    text = f"""
version: 2
stack:
  compose: compose.yaml
  services:
    db: {{kind: postgres, {reach}, synchronous_standby_names: '*'}}
    replica: {{kind: postgres, replica_of: db, {reach.replace('5432', '5433')}}}
scenarios:
  x: {{fault: {{kill: db}}, recovery: [{{promote: replica}}, {{repoint: db}}],
      targets: {{rto: 1m}}}}
"""
    with pytest.raises(PlanError) as caught:
        load(tmp_path, text)
    assert caught.value.key == "stack.services.db.synchronous_standby_names"
    assert "your compose project's own configuration" in caught.value.problem
    text = text.replace(", synchronous_standby_names: '*'", "")
    assert load(tmp_path, text)
    with pytest.raises(PlanError) as caught:
        load(tmp_path, text.replace("{repoint: db}", "{rejoin: db}"))
    assert caught.value.key == "scenarios.x.recovery[1].rejoin"
    assert "your own procedure" in caught.value.problem


def test_losing_the_primary_is_recovered_by_promoting_its_replica(tmp_path: Path) -> None:
    plan = load(tmp_path, STACK + OK.replace("{kill: db}", "{lose_server: db}"))
    assert not [c for c in find(plan) if c.blocking]  # type: ignore[arg-type]
    plan = load(tmp_path, STACK + "  x: {fault: {lose_server: db}, recovery: [{fence: db}], "
                "targets: {rto: 1m}}\n")
    assert [c.key for c in find(plan) if c.blocking] == ["scenarios.x.recovery"]  # type: ignore[arg-type]
