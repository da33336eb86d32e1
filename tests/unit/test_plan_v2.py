"""Plan format version 2 and `drill check`: what is refused, and what cannot hold together."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.cli import main
from drills.errors import PlanError, UsageError
from drills.plan import load_plan
from drills.plan.contradictions import find
from drills.plan.interpolate import expand
from drills.plan.scenario_spec import FaultAction, Phase, Source, StepAction

REPO = Path(__file__).resolve().parents[2]
VENTRA = REPO / "examples" / "ventra" / "drill-plan.yaml"

STACK = """
version: 2
stack:
  services:
    db: {kind: postgres}
    cache: {kind: redis}
"""
PROCS = """
procedures:
  dump: {run: [sh, -c, 'pg_dump > "$BACKUP_DIR/x.sql"'], env: {BACKUP_DIR: "{backup_dir}"}}
  restore: {run: [sh, -c, 'psql < "$1"', restore, "{latest:daily}"], timeout: 5m}
backups:
  daily: {service: db, procedure: dump, every: 24h, at: "03:00", retention: 7d}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def plan_with(tmp_path: Path, scenarios: str, extra: str = PROCS) -> Path:
    return write(tmp_path, STACK + extra + "scenarios:\n" + scenarios)


def test_seed_000_reads_as_written(tmp_path: Path) -> None:
    plan = load_plan(VENTRA)
    assert plan.version == 2 and plan.stack is not None and plan.stack.own
    assert set(plan.stack.services) == {"db", "redis", "api", "worker"}
    loss = plan.scenario("server-loss")
    assert loss.source is Source.STEPS
    assert loss.fault is not None and loss.fault.action is FaultAction.LOSE_SERVER
    assert [s.action for s in loss.recovery] == [StepAction.PROVISION, StepAction.PROCEDURE,
                                                 StepAction.MANUAL]
    assert loss.stated_manual_s() == 300.0
    assert loss.targets.rto_s == 1800.0 and loss.targets.rpo_s == 6 * 3600.0  # from `targets`
    assert loss.targets.phases == {"detection": 300.0}
    assert loss.ledger == "db"
    assert plan.scenario("redis-crash").ledger == "redis"
    assert plan.backups["daily-dump"].every_s == 86400.0
    assert plan.drill_every_s == 90 * 86400.0


def test_drill_check_reports_the_seed_000_contradiction(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["check", str(VENTRA)]) == 1
    out = capsys.readouterr().out
    assert "scenarios.server-loss.targets.rpo: RPO 6 h" in out
    assert "taken every 24 h" in out
    assert "4. backup daily-dump of db" in out  # what the scenario will do, in order
    assert "scripts/restore-db.sh {latest:daily-dump}" in out


def test_drill_check_passes_a_plan_without_contradiction(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_with(tmp_path, """
  loss:
    fault: {lose_server: db}
    recovery: [{provision: db}, {procedure: restore}]
    targets: {rto: 10m, rpo: 25h}
""")
    assert main(["check", str(path)]) == 0
    assert "valid, no contradiction" in capsys.readouterr().out


def test_drill_check_exit_2_on_an_invalid_plan(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_with(tmp_path, "  x: {fault: {kill: nope}, targets: {rto: 1m}}\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "scenarios.x.fault.kill" in err and "'nope' is not a service of the stack" in err


@pytest.mark.parametrize(("scenarios", "extra", "key", "words"), [
    ("  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
     "stack2:\n", "stack2", "unknown key"),
    ("  x: {fault: {kill: db, for: 3s}, targets: {rto: 1m}}\n", "",
     "scenarios.x.fault.for", "only freeze"),
    ("  x: {fault: {freeze: db}, targets: {rto: 1m}}\n", "",
     "scenarios.x.fault.for", "missing"),
    ("  x: {code: true, fault: {kill: db}, targets: {rto: 1m}}\n", "",
     "scenarios.x.fault", "Python drill"),
    ("  x: {builtin: postgres-explode, targets: {rto: 1m}}\n", "",
     "scenarios.x.builtin", "not a built-in drill"),
    ("  x: {fault: {kill: db}, recovery: [{manual: call someone}], targets: {rto: 1m}}\n",
     "", "scenarios.x.recovery[0].takes", "missing"),
    ("  x: {fault: {kill: db}, recovery: [{restart: db, takes: 1m}], targets: {rto: 1m}}\n",
     "", "scenarios.x.recovery[0].takes", "only a manual step"),
    ("  x: {fault: {kill: db}}\n", "", "scenarios.x.targets", "cannot fail"),
    ("  x: {fault: {kill: db}, checks: [{sql: select 1, service: cache, at_least: 1}], "
     "targets: {rto: 1m}}\n", "", "scenarios.x.checks[0].service", "answers no sql check"),
    ("  x: {fault: {kill: db}, checks: [{sql: select 1, service: db}], targets: {rto: 1m}}\n",
     "", "scenarios.x.checks[0]", "give the bound"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m, phases: {thinking: 1m}}}\n", "",
     "scenarios.x.targets.phases.thinking", "unknown key"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
     "procedures:\n  p: {run: pg_restore --clean}\n", "procedures.p.run", "write the command "
     "as a list"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
     "procedures:\n  p: {run: [psql, '{password:db}']}\n", "procedures.p.run[1]", "only in `env`"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
     "procedures:\n  p: {run: [psql, '{lastest:db}']}\n", "procedures.p.run[1]",
     "unknown placeholder"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
     "procedures:\n  p: {run: [scripts/missing.sh]}\n", "procedures.p.run[0]", "no such file"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
     PROCS.replace("retention: 7d", "compressed_to: 2d"), "backups.daily.compressed_to",
     "never stretches"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
     PROCS.replace('at: "03:00"', "at: 3am"), "backups.daily.at", "HH:MM"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}, workload: {background: {users: 2}}}\n", "",
     "scenarios.x.workload.background.locustfile", "missing"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}, workload: {background: "
     "{locustfile: nope.py}}}\n", "", "scenarios.x.workload.background.locustfile",
     "no such file"),
    ("  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
     PROCS.replace("procedure: dump", "method: mysqldump"), "backups.daily.method",
     "pg_dump, base_backup"),
])
def test_invalid_v2_plans_name_the_key(tmp_path: Path, scenarios: str, extra: str, key: str,
                                       words: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(plan_with(tmp_path, scenarios, extra))
    assert caught.value.key == key, str(caught.value)
    assert words in caught.value.problem, str(caught.value)


def test_secrets_are_references_never_text(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    path = write(tmp_path, """
version: 2
stack:
  compose: compose.yaml
  services:
    db: {kind: postgres, reach: {host: 127.0.0.1, port: 5432, user: u, database: d,
                                 password: hunter2}}
scenarios:
  x: {fault: {kill: db}, targets: {rto: 1m}}
""")
    with pytest.raises(PlanError, match="never written in the plan"):
        load_plan(path)


def test_own_stack_services_need_reach_and_builtin_ones_refuse_it(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    with pytest.raises(PlanError, match=r"stack\.services\.db\.reach: missing"):
        load_plan(write(tmp_path, "version: 2\nstack: {compose: compose.yaml, services: "
                        "{db: {kind: postgres}}}\nscenarios: {x: {fault: {kill: db}, "
                        "targets: {rto: 1m}}}\n"))
    with pytest.raises(PlanError, match="knows how to reach them"):
        load_plan(write(tmp_path, "version: 2\nstack: {services: {db: {kind: postgres, "
                        "reach: {host: h, port: 1}}}}\nscenarios: {x: {fault: {kill: db}, "
                        "targets: {rto: 1m}}}\n"))


def test_version_1_with_version_2_sections_says_how_to_convert(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="set `version: 2`"):
        load_plan(write(tmp_path, "stack: {services: {}}\nscenarios: {}\n"))
    with pytest.raises(PlanError, match="allowed: 1 or 2"):
        load_plan(write(tmp_path, "version: 3\nscenarios: {}\n"))


def test_the_version_key_alone_chooses_the_reader() -> None:
    """drills.plan.read dispatches; no reader imports another reader to do it (issue 25)."""
    import ast

    def imported(module: str) -> set[str]:
        tree = ast.parse((REPO / "drills" / "plan" / f"{module}.py").read_text())
        return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    assert imported("reader").isdisjoint({"drills.plan.reader_v2", "drills.plan.reader_stack",
                                          "drills.plan.read"})
    for module in ("reader_v2", "reader_stack"):
        assert "drills.plan.read" not in imported(module), module
    assert {"drills.plan.reader", "drills.plan.reader_v2"} <= imported("read")


def test_builtin_and_code_scenarios_in_version_2(tmp_path: Path) -> None:
    plan = load_plan(plan_with(tmp_path, """
  kill-pg: {builtin: postgres-kill, targets: {rto: 30s}}
  postgres-freeze: {params: {freeze_s: 2}, targets: {rto: 10s}}
  my-drill: {code: true, targets: {rto: 1m, phases: {execution: 30s}}}
""", extra=""))
    assert plan.scenario("kill-pg").catalogue_name == "postgres-kill"
    assert plan.scenario("postgres-freeze").params["freeze_s"] == 2
    assert plan.scenario("my-drill").source is Source.CODE
    assert plan.scenario("my-drill").targets.phases == {"execution": 30.0}
    assert find(plan) == []


def contradictions(tmp_path: Path, scenarios: str, extra: str = PROCS) -> list[str]:
    return [f"{c.key}|{'blocking' if c.blocking else 'target'}|{c.message}"
            for c in find(load_plan(plan_with(tmp_path, scenarios, extra)))]


@pytest.mark.parametrize("job", ["daily", "weekly"])
def test_a_restore_step_is_refused_when_the_plan_is_read(tmp_path: Path, job: str) -> None:
    # whether the job exists or not: drills has no built-in restore for a plan's own
    # scenario, so the plan is refused at once, saying what to write instead
    path = plan_with(tmp_path, f"""
  x:
    fault: {{lose_server: db}}
    recovery: [{{provision: db}}, {{restore: {job}}}, {{procedure: restore}}]
    targets: {{rto: 1h}}
""")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.path == path and caught.value.key == "scenarios.x.recovery[1].restore"
    assert "has no built-in restore step" in caught.value.problem
    assert (f"restore job {job} with your own procedure: under `procedures`, e.g. restore-db: "
            f"{{run: [scripts/restore.sh, '{{latest:{job}}}']}}, and the step "
            "{procedure: restore-db}") in caught.value.problem
    assert main(["check", str(path)]) == 2


def test_a_procedure_that_does_not_exist_blocks(tmp_path: Path) -> None:
    found = contradictions(tmp_path, """
  x:
    fault: {lose_server: db}
    recovery: [{provision: db}, {procedure: restore}, {procedure: nope}]
    targets: {rto: 1h}
""")
    assert [f for f in found if "|blocking|" in f] == [
        "scenarios.x.recovery[2].procedure|blocking|procedure nope does not exist; "
        "`procedures` has: dump, restore"]


def test_a_procedure_naming_a_missing_job_blocks(tmp_path: Path) -> None:
    extra = PROCS.replace("{latest:daily}", "{latest:hourly}")
    found = contradictions(tmp_path, """
  x: {fault: {lose_server: db}, recovery: [{procedure: restore}], targets: {rto: 1h}}
""", extra)
    assert any("procedures.restore|blocking|{latest:hourly} names backup job hourly" in f
               for f in found), found


def test_targets_the_plan_itself_cannot_meet(tmp_path: Path) -> None:
    found = contradictions(tmp_path, """
  x:
    fault: {lose_server: db}
    recovery:
      - provision: db
      - procedure: restore
      - {manual: wait for the DBA, takes: 20m, phase: decision}
      - {manual: update DNS, takes: 15m}
    targets: {rto: 30m, rpo: 6h, max_lost_writes: 0, phases: {decision: 10m}}
""")
    keys = [f.split("|")[0] for f in found]
    assert keys == ["scenarios.x.targets.rpo", "scenarios.x.targets.max_lost_writes",
                    "scenarios.x.targets.rto", "scenarios.x.targets.phases.decision"]
    assert all("|target|" in f for f in found)
    assert "manual steps alone state 35 min" in found[2]


def test_retention_shorter_than_the_interval(tmp_path: Path) -> None:
    found = contradictions(tmp_path, "  x: {fault: {kill: db}, targets: {rto: 1m}}\n",
                           PROCS.replace("retention: 7d", "retention: 12h"))
    assert found == ["backups.daily.retention|target|backups are kept 12 h but taken every "
                     "24 h: for part of each interval no backup exists at all"]


def test_phase_names_are_the_design_s() -> None:
    assert [p.value for p in Phase] == ["detection", "decision", "execution", "verification"]


def test_interpolation_as_compose_reads_it() -> None:
    env = {"PORT": "6000", "EMPTY": ""}
    assert expand("${PORT:-5432}", env, "x") == "6000"
    assert expand("${NOPE:-5432}", env, "x") == "5432"
    assert expand("${EMPTY:-1}|${EMPTY-2}", env, "x") == "1|"
    assert expand("$${PORT}", env, "x") == "${PORT}"
    with pytest.raises(UsageError, match=r"stack.services.db.reach.port: \$\{NOPE\} is not set"):
        expand("${NOPE}", env, "stack.services.db.reach.port")


def test_kinds_drills_has_no_package_for(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A team's search engine is reached and faulted; drills cannot start one itself."""
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    own = load_plan(write(tmp_path, """
version: 2
stack:
  compose: compose.yaml
  services:
    search: {kind: elasticsearch, reach: {host: 127.0.0.1, port: 9200},
             health: {http: "http://127.0.0.1:9200/_cluster/health"}}
    db: {kind: postgres, reach: {host: 127.0.0.1, port: 5432, user: u, database: d}}
scenarios:
  x: {fault: {kill: search}, recovery: [{restart: search}], targets: {rto: 1m}}
"""))
    assert own.scenario("x").ledger == "db"  # the one that can hold the ledger
    with pytest.raises(PlanError, match="no sql check"):
        load_plan(write(tmp_path, """
version: 2
stack: {compose: compose.yaml, services: {search: {kind: elasticsearch, reach: {url: "http://h:1"}},
        db: {kind: postgres, reach: {host: h, port: 1, user: u, database: d}}}}
scenarios:
  x: {fault: {kill: search}, checks: [{sql: select 1, service: search, equals: 1}],
      targets: {rto: 1m}}
"""))
    path = write(tmp_path, """
version: 2
stack: {services: {db: {kind: postgres}, docs: {kind: mongo}}}
scenarios:
  x: {fault: {kill: db}, targets: {rto: 1m}}
""")
    assert main(["check", str(path)]) == 0
    assert "drills cannot start a mongo server itself" in capsys.readouterr().out


def test_the_reference_app_on_drills_own_servers(tmp_path: Path) -> None:
    from drills import kinds
    from drills.errors import StackError

    plan = load_plan(write(tmp_path, """
version: 2
stack:
  services:
    db: {kind: postgres}
    cache: {kind: redis}
    web: {kind: app, health: {http: "{url:web}/health"}}
scenarios:
  x: {fault: {kill: db}, checks: [{http: "{url:web}/health"}], targets: {rto: 1m}}
"""))
    assert plan.stack is not None
    assert plan.stack.services["web"].health is not None
    assert plan.stack.services["web"].health.url == "{url:web}/health"
    settings = kinds.get("app").plan_settings("web", {"db": "postgres", "cache": "redis",
                                                      "web": "app"})
    assert (settings.database, settings.cache, settings.proxy) == ("db", "cache", None)
    with pytest.raises(StackError, match="needs a postgres and a redis"):
        kinds.get("app").plan_settings("web", {"db": "postgres", "web": "app"})
    with pytest.raises(PlanError, match=r"or \{url:SERVICE\}/path"):
        load_plan(write(tmp_path, "version: 2\nstack: {services: {db: {kind: postgres}}}\n"
                        "scenarios: {x: {fault: {kill: db}, checks: [{http: 'web/health'}], "
                        "targets: {rto: 1m}}}\n"))
