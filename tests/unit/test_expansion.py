"""Issue 20 item 6: ``${VAR}`` and ``${VAR:-default}`` everywhere the README promises them.

A health check's command took its arguments as written (``pg_isready -p ${DB_PORT:-5432}``
ran with that text), and ``drill check`` printed addresses with their variables unfilled.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.errors import UsageError
from drills.plan import load_plan
from drills.plan.interpolate import preview, substitute
from drills.plan.preview import describe, stack_lines
from drills.plan.stack_spec import HealthCheck
from drills.runtime.own_compose import resolve_health

WHERE = "stack.services.db.health"


def test_a_health_commands_arguments_are_expanded() -> None:
    check = HealthCheck(command=("pg_isready", "-h", "${DB_HOST}", "-p", "${DB_PORT:-5432}",
                                 "-U", "${DB_USER-shop}"), timeout_s=3.0)
    resolved = resolve_health(check, {"DB_HOST": "127.0.0.1"}, WHERE)
    assert resolved is not None
    assert resolved.command == ("pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", "shop")
    assert resolved.timeout_s == 3.0 and resolved.url is None
    env = {"DB_HOST": "10.0.0.9", "DB_PORT": "6543", "DB_USER": ""}
    resolved = resolve_health(check, env, WHERE)
    assert resolved is not None and resolved.command[2:] == ("10.0.0.9", "-p", "6543", "-U", "")


def test_an_unset_variable_in_a_health_command_names_its_plan_key() -> None:
    check = HealthCheck(command=("redis-cli", "-p", "${CACHE_PORT}", "ping"))
    with pytest.raises(UsageError, match=r"^stack.services.db.health.command\[2\]: "
                                         r"\$\{CACHE_PORT\} is not set"):
        resolve_health(check, {}, WHERE)


def test_a_command_argument_is_kept_as_it_is_apart_from_its_variables() -> None:
    """No escaping and no length limit: a script given to ``sh -c`` runs as written."""
    script = "set -e\nfor i in 1 2; do pg_isready -p ${DB_PORT:-5432}; done\n" + "#" * 3000
    check = HealthCheck(command=("sh", "-c", script, "$1"))
    resolved = resolve_health(check, {"DB_PORT": "7000"}, WHERE)
    assert resolved is not None
    assert resolved.command == ("sh", "-c", script.replace("${DB_PORT:-5432}", "7000"), "$1")
    assert substitute("$${HOME}", {"HOME": "/root"}, "x") == "${HOME}"  # as compose reads it


def test_the_preview_fills_variables_and_says_which_are_not_set() -> None:
    env = {"PORT": "6000", "EMPTY": ""}
    assert preview("http://${HOST:-127.0.0.1}:${PORT:-8080}/h", env) == (
        "http://127.0.0.1:6000/h", ["HOST is not set: its default 127.0.0.1 is used"])
    assert preview("${EMPTY:-1}:${EMPTY-2}:${GONE}", env) == (
        "1::${GONE}", ["EMPTY is empty: its default 1 is used",
                       "GONE is not set: drill run stops here (export GONE)"])


PLAN = """version: 2
stack:
  compose: compose.yaml
  services:
    db:
      kind: postgres
      reach: {host: "${SHOP_DB_HOST:-127.0.0.1}", port: "${SHOP_DB_PORT:-5432}", user: shop,
              database: shop}
      health: {command: [pg_isready, -p, "${SHOP_DB_PORT:-5432}"]}
    web:
      kind: http
      reach: {url: "http://127.0.0.1:${SHOP_WEB_PORT:-8080}"}
      health: {http: "http://127.0.0.1:${SHOP_WEB_PORT:-8080}/health"}
scenarios:
  crash:
    fault: {kill: db}
    recovery: [{restart: db}]
    checks:
      - ledger: db
      - http: "http://127.0.0.1:${SHOP_WEB_PORT:-8080}/health"
    targets: {rto: 1m}
"""


def test_drill_check_shows_addresses_as_the_run_will_reach_them(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "plan.yaml").write_text(PLAN)
    plan = load_plan(tmp_path / "plan.yaml")
    lines = describe(plan, env={"SHOP_DB_PORT": "6432", "SHOP_WEB_PORT": "9090"})
    text = "\n".join(lines)
    assert "${" not in text, text
    assert "  db: postgres at 127.0.0.1:6432; health: `pg_isready -p 6432` exits 0" in lines
    assert ("  web: http at http://127.0.0.1:9090; health: GET http://127.0.0.1:9090/health "
            "answers 200") in text
    assert "check: GET http://127.0.0.1:9090/health answers 200" in text
    assert lines.count("  environment: SHOP_DB_HOST is not set: its default 127.0.0.1 "
                       "is used") == 1
    # nothing set: every default, each variable said once
    said = [line for line in describe(plan, env={}) if line.startswith("  environment:")]
    assert said == ["  environment: SHOP_DB_HOST is not set: its default 127.0.0.1 is used; "
                    "SHOP_DB_PORT is not set: its default 5432 is used; SHOP_WEB_PORT is not "
                    "set: its default 8080 is used"]
    assert stack_lines(plan.stack, {"SHOP_DB_HOST": "db.internal", "SHOP_DB_PORT": "1",
                                    "SHOP_WEB_PORT": "2"})[2].startswith(
        "  db: postgres at db.internal:1;")
