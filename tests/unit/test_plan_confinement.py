"""Issue 21 items 2 and 3: procedures cannot leave the drill, and what is knowable before the
start is refused before the start (a plan error, or a blocking contradiction)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drills.cli import main
from drills.errors import PlanError
from drills.plan import load_plan
from drills.plan.contradictions import find
from tests.unit.test_plan_v2 import STACK

PROCS = """
procedures:
  dump: {run: [sh, -c, 'pg_dump > "$BACKUP_DIR/x.sql"'], env: {BACKUP_DIR: "{backup_dir}"}}
  restore: {run: [sh, -c, 'psql < "$1"', restore, "{latest:daily}"], timeout: 5m}
backups:
  daily: {service: db, procedure: dump, every: 24h}
"""
KILL = "  x: {fault: {kill: db}, targets: {rto: 1m}}\n"


def plan_at(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return path


def refused(tmp_path: Path, text: str) -> PlanError:
    with pytest.raises(PlanError) as caught:
        load_plan(plan_at(tmp_path, text))
    return caught.value


# -- item 2: procedures cannot leave the drill --------------------------------------------

@pytest.mark.parametrize("var", ["COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_PROFILES",
                                 "DOCKER_HOST", "DOCKER_CONTEXT", "DRILL_PROJECT",
                                 "DRILL_DB_HOST", "DRILLS_RUNTIME", "compose_project_name"])
def test_drills_own_variables_cannot_be_set_by_a_procedure(tmp_path: Path, var: str) -> None:
    error = refused(tmp_path, STACK + f"procedures:\n  p: {{run: [env], env: {{{var}: "
                    "shop-prod}}\nscenarios:\n" + KILL)
    assert error.key == f"procedures.p.env.{var}", str(error)
    assert "cannot be set by a plan" in error.problem
    assert "another project or engine" in error.problem


def test_drill_check_exits_2_on_a_compose_project_override(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_at(tmp_path, STACK + "procedures:\n  p: {run: [env], env: "
                   "{COMPOSE_PROJECT_NAME: shop-prod}}\nscenarios:\n" + KILL)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "procedures.p.env.COMPOSE_PROJECT_NAME" in err


def test_a_procedure_runs_inside_the_plan_s_directory(tmp_path: Path) -> None:
    home = tmp_path / "plan"
    (home / "scripts").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (home / "out").symlink_to(outside)

    def proc(settings: str) -> str:
        return STACK + f"procedures:\n  p: {{run: [env], {settings}}}\nscenarios:\n" + KILL

    for cwd, how in (("..", "through '..'"), ("scripts/../..", "through '..'"),
                     (str(outside), "an absolute path"), ("out", "through a symlink")):
        error = refused(home, proc(f"cwd: '{cwd}'"))
        assert error.key == "procedures.p.cwd", str(error)
        assert how in error.problem and "cwd_outside: true" in error.problem, str(error)
    plan = load_plan(plan_at(home, proc("cwd: scripts")))
    assert plan.procedures["p"].cwd == home / "scripts"
    plan = load_plan(plan_at(home, proc(f"cwd: '{outside}', cwd_outside: true")))
    assert plan.procedures["p"].cwd == outside
    error = refused(home, proc("cwd: .., cwd_outside: yes"))  # YAML 1.2: text, not true
    assert error.key == "procedures.p.cwd_outside"


@pytest.mark.parametrize(("argument", "shown"), [
    ("{host:}", "{host:}"), ("{latest:daily", "{latest:daily"),
    ("--file={latest:my job}", "{latest:my job}"), ("{HOST:db}", "{HOST:db}"),
    ("{port:db}-{url:}", "{url:}"),
])
def test_malformed_placeholders_are_refused(tmp_path: Path, argument: str, shown: str) -> None:
    error = refused(tmp_path, STACK + f"procedures:\n  p: {{run: [echo, '{argument}']}}\n"
                    "scenarios:\n" + KILL)
    assert error.key == "procedures.p.run[1]", str(error)
    assert f"'{shown}' is not a placeholder" in error.problem, str(error)
    error = refused(tmp_path, STACK + f"procedures:\n  p: {{run: [env], env: {{X: "
                    f"'{argument}'}}}}\nscenarios:\n" + KILL)
    assert error.key == "procedures.p.env.X", str(error)


def test_shell_and_jq_braces_are_not_placeholders(tmp_path: Path) -> None:
    plan = load_plan(plan_at(tmp_path, STACK + "procedures:\n  p: {run: [sh, -c, "
                             "'echo ${HOME:-x} | jq \"{id: .id}\"; cp a{,.bak}; find . -exec "
                             "true {} +']}\nscenarios:\n" + KILL))
    assert plan.procedures["p"].argv[0] == "sh"


@pytest.mark.parametrize(("services", "scenario", "key"), [
    ("    db: {kind: postgres, health: {command: [pg_isready, '{password:db}']}}\n", KILL,
     "stack.services.db.health.command[1]"),
    ("    db: {kind: postgres}\n",
     "  x: {fault: {kill: db}, targets: {rto: 1m}, checks: [{http: "
     "'http://127.0.0.1:8080/?p={password:db}'}]}\n", "scenarios.x.checks[0].url"),
    ("    db: {kind: postgres}\n",
     "  x: {fault: {kill: db}, targets: {rto: 1m}, checks: [{sql: \"select '{password:db}'\", "
     "service: db, equals: 1}]}\n", "scenarios.x.checks[0].sql"),
    ("    db: {kind: postgres}\n",
     "  x: {fault: {kill: db}, targets: {rto: 1m}, detect: {monitor: {http: "
     "'http://127.0.0.1:8080/{password:db}'}}}\n", "scenarios.x.detect.monitor[0].url"),
])
def test_password_placeholder_only_in_a_procedure_s_env(tmp_path: Path, services: str,
                                                        scenario: str, key: str) -> None:
    error = refused(tmp_path, "version: 2\nstack:\n  services:\n" + services
                    + "scenarios:\n" + scenario)
    assert error.key == key, str(error)
    assert "{password:...} only in `env`" in error.problem, str(error)


def test_placeholders_drills_would_not_fill_are_refused(tmp_path: Path) -> None:
    error = refused(tmp_path, "version: 2\nstack:\n  services:\n    db: {kind: postgres, "
                    "health: {command: [pg_isready, -h, '{host:db}']}}\nscenarios:\n" + KILL)
    assert error.key == "stack.services.db.health.command[2]", str(error)
    assert "it would stay as written" in error.problem


# -- item 3: known before the start, refused before the start ------------------------------

def test_a_procedure_s_program_must_be_executable(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "restore.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    text = STACK + "procedures:\n  p: {run: [scripts/restore.sh]}\nscenarios:\n" + KILL
    error = refused(tmp_path, text)
    assert error.key == "procedures.p.run[0]", str(error)
    assert "is not executable: chmod +x" in error.problem
    # through its interpreter, or a program found on PATH: not drills' to judge
    load_plan(plan_at(tmp_path, text.replace("[scripts/restore.sh]", "[sh, scripts/restore.sh]")))
    load_plan(plan_at(tmp_path, text.replace("[scripts/restore.sh]", "[pg_restore, x]")))
    script.chmod(0o755)
    assert os.access(script, os.X_OK)
    load_plan(plan_at(tmp_path, text))


def blocking(tmp_path: Path, scenarios: str, procs: str = PROCS) -> list[str]:
    plan = load_plan(plan_at(tmp_path, STACK + procs + "scenarios:\n" + scenarios))
    return [f"{c.key}|{c.message}" for c in find(plan) if c.blocking]


RESTORE = "  x: {fault: {lose_server: db}, recovery: [{provision: db}, {procedure: restore}], " \
          "targets: {rto: 1h}}\n"


@pytest.mark.parametrize(("procs", "key", "words"), [
    (PROCS + "  weekly: {service: db, procedure: restore, every: 7d}\n",
     "procedures.restore.run[4]", "runs as backups.weekly.procedure (a backup job's"),
    (PROCS.replace("procedures:\n", "procedures:\n  seed: {run: [echo, '{latest:daily}']}\n")
     .replace("version: 2", "") + "", "procedures.seed.run[1]", "runs as stack.setup[0]"),
])
def test_latest_only_in_recovery_procedures(tmp_path: Path, procs: str, key: str,
                                            words: str) -> None:
    stack = STACK + "  setup: [seed]\n" if "seed" in procs else STACK
    plan = load_plan(plan_at(tmp_path, stack + procs + "scenarios:\n" + RESTORE))
    found = [c for c in find(plan) if c.blocking]
    assert [c.key for c in found] == [key], found
    assert words in found[0].message and "{latest:daily}" in found[0].message
    assert "given to the recovery steps' procedures only" in found[0].message


def test_latest_in_the_fault_and_backup_dir_outside_a_backup_block(tmp_path: Path) -> None:
    procs = PROCS.replace("procedures:\n", "procedures:\n  chaos: {run: [echo, "
                          "'{latest:daily}']}\n  fix: {run: [echo, '{backup_dir}']}\n")
    found = blocking(tmp_path, "  x: {fault: {procedure: chaos, service: db}, recovery: "
                     "[{procedure: restore}, {procedure: fix}], targets: {rto: 1h}}\n", procs)
    assert any(f.startswith("procedures.chaos.run[1]|{latest:daily} in procedure chaos, which "
                            "runs as scenarios.x.fault.procedure") for f in found), found
    assert any(f.startswith("procedures.fix.run[1]|{backup_dir} in procedure fix, which runs "
                            "as scenarios.x.recovery[1].procedure") and "backups.JOB.procedure"
               in f for f in found), found
    assert not any(f.startswith("procedures.dump") for f in found), found


@pytest.mark.parametrize(("recovery", "key", "words"), [
    ("[{procedure: restore}, {provision: db}]", "scenarios.x.recovery[1].provision",
     "put {provision: db} before {procedure: restore}"),
    ("[{provision: db}, {procedure: restore}, {provision: db}]",
     "scenarios.x.recovery[2].provision", "replaces it with an empty one"),
    ("[{restart: db}, {procedure: restore}]", "scenarios.x.recovery[0].restart",
     "its data, which is gone"),
    ("[{manual: call the DBA, takes: 5m}]", "scenarios.x.recovery",
     "no recovery step brings it back"),
    ("[]", "scenarios.x.recovery", "no recovery step brings it back"),
])
def test_impossible_step_orders_block(tmp_path: Path, recovery: str, key: str,
                                      words: str) -> None:
    found = blocking(tmp_path, f"  x: {{fault: {{lose_server: db}}, recovery: {recovery}, "
                     "targets: {rto: 1h}}\n")
    assert [f.split("|")[0] for f in found] == [key], found
    assert words in found[0], found


def test_possible_step_orders_pass(tmp_path: Path) -> None:
    for scenario in (RESTORE,
                     # the team's script may bring the server back itself
                     "  x: {fault: {lose_server: db}, recovery: [{procedure: restore}], "
                     "targets: {rto: 1h}}\n",
                     # a killed server may come back by its restart policy
                     "  x: {fault: {kill: db}, targets: {rto: 1h}}\n",
                     "  x: {fault: {kill: db}, recovery: [{restart: db}], targets: {rto: 1h}}\n",
                     "  x: {fault: {lose_server: cache}, recovery: [{provision: cache}], "
                     "targets: {rto: 1h}}\n"):
        assert blocking(tmp_path, scenario) == [], scenario


def test_drill_check_says_cannot_run_and_exits_1(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_at(tmp_path, STACK + PROCS + "scenarios:\n  x: {fault: {lose_server: db}, "
                   "recovery: [{restart: db}], targets: {rto: 1h}}\n")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "scenarios.x.recovery[0].restart: the fault loses db's server" in out
    assert "[cannot run]" in out


@pytest.mark.parametrize(("health", "check", "key"), [
    ("{command: [psql, 'postgresql://shop:${SHOP_PW}@127.0.0.1/shop', -c, select 1]}", "",
     "stack.services.db.health.command[1]"),
    ("{http: 'http://127.0.0.1:8080/health?pw=${SHOP_PW:-x}'}", "",
     "stack.services.db.health.http"),
    ("{command: [pg_isready]}", ", checks: [{http: 'http://x:${SHOP_PW}@127.0.0.1/'}]",
     "scenarios.x.checks[0]"),
])
def test_a_password_s_variable_is_never_filled_into_argv_or_a_url(
        tmp_path: Path, health: str, check: str, key: str) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    error = refused(tmp_path, "version: 2\nstack:\n  compose: compose.yaml\n  services:\n"
                    "    db: {kind: postgres, reach: {host: 127.0.0.1, port: 5432, user: shop, "
                    f"database: shop, password: {{env: SHOP_PW}}}}, health: {health}}}\n"
                    f"scenarios:\n  x: {{fault: {{kill: db}}, targets: {{rto: 1m}}{check}}}\n")
    assert error.key == key, str(error)
    assert "${SHOP_PW} is a service's password" in error.problem


def test_drill_run_exits_2_before_anything_starts(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_at(tmp_path, STACK + PROCS + "scenarios:\n  x: {fault: {lose_server: db}, "
                   "recovery: [{procedure: restore}, {provision: db}], targets: {rto: 1h}}\n")
    out = tmp_path / "out"
    assert main(["run", "--plan", str(path), "--out", str(out), "--runtime", "local"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: the plan cannot run as written" in err
    assert "scenarios.x.recovery[1].provision: provisions a new, empty db" in err
    assert not out.exists() or not any(out.iterdir())
