"""Drilling a team's own stack: its compose project, its backup and restore scripts, its checks.

A small project is written here as a team would: a PostgreSQL and an HTTP service in a
compose file, a backup script (pg_dump through `docker compose exec`), a restore script,
and a plan (version 2) with a server loss restored by that script, a health check and a
row count. A second scenario forgets the restore: its verdicts must fail, for the right
reasons. Then the same with drills' own servers on the local runtime (seed plan 002), and
the refusals: a plan pointing at a running stack, a compose file that reaches outside the
drill's project.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from drills.stack.ports import free_port
from tests.integration.conftest import REPO, drill_cli, labelled

pytestmark = pytest.mark.slow

COMPOSE = """
services:
  db:
    image: ${DRILLS_POSTGRES_IMAGE:-postgres:15}
    network_mode: host
    environment:
      POSTGRES_USER: shop
      POSTGRES_DB: shop
      POSTGRES_PASSWORD: ${SHOP_DB_PASSWORD:?}
      PGPORT: ${SHOP_DB_PORT}
    command: [postgres, -c, listen_addresses=127.0.0.1]
    volumes: [pgdata:/var/lib/postgresql/data]
  web:
    image: ${DRILLS_APP_IMAGE:-drills/app:1}
    network_mode: host
    environment:
      SHOP_DB_PORT: ${SHOP_DB_PORT}
      SHOP_DB_PASSWORD: ${SHOP_DB_PASSWORD}
      SHOP_WEB_PORT: ${SHOP_WEB_PORT}
    command: [python3, /srv/web.py]
    volumes: ["./web:/srv:ro"]
volumes:
  pgdata:
"""
WEB = '''
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            with psycopg.connect(host="127.0.0.1", port=os.environ["SHOP_DB_PORT"], user="shop",
                                 dbname="shop", password=os.environ["SHOP_DB_PASSWORD"],
                                 connect_timeout=1) as conn:
                conn.execute("SELECT 1")
            status = 200
        except Exception:
            status = 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["SHOP_WEB_PORT"])), Health).serve_forever()
'''
SEED = """#!/usr/bin/env bash
set -euo pipefail
docker compose exec -T db psql -U shop -d shop -v ON_ERROR_STOP=1 -q <<'SQL'
CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL);
INSERT INTO orders (item) VALUES ('espresso machine'), ('grinder');
SQL
"""
BACKUP = """#!/usr/bin/env bash
# nightly: pg_dump -Fc of the shop database
set -euo pipefail
docker compose exec -T db pg_dump -U shop -Fc shop > "$BACKUP_DIR/shop-$(date +%H%M%S).dump"
"""
RESTORE = """#!/usr/bin/env bash
# restore.sh DUMP: the runbook's restore, once the new server answers
set -euo pipefail
until docker compose exec -T db pg_isready -U shop -q; do sleep 0.2; done
docker compose exec -T db pg_restore -U shop -d shop --clean --if-exists --exit-on-error < "$1"
"""
PLAN = """
version: 2
name: shop
stack:
  compose: compose.yaml
  setup: [seed]
  services:
    db:
      kind: postgres
      reach: {host: 127.0.0.1, port: "${SHOP_DB_PORT}", user: shop, database: shop,
              password: {env: SHOP_DB_PASSWORD}}
    web:
      kind: http
      reach: {url: "http://127.0.0.1:${SHOP_WEB_PORT}"}
      health: {http: "http://127.0.0.1:${SHOP_WEB_PORT}/health"}
backups:
  nightly: {service: db, procedure: backup, every: 24h, at: "02:00", compressed_to: 4s}
procedures:
  seed: {run: [scripts/seed.sh]}
  backup: {run: [scripts/backup.sh], env: {BACKUP_DIR: "{backup_dir}"}, timeout: 2m}
  restore: {run: [scripts/restore.sh, "{latest:nightly}"], timeout: 5m}
  delete-orders:
    run: [sh, -c, 'docker compose exec -T db psql -U shop -d shop -q -c "DELETE FROM orders"']
defaults:
  workload: {users: 4, warmup: 2s, hold: 1s}
scenarios:
  server-loss:
    fault: {lose_server: db}
    recovery:
      - provision: db
      - procedure: restore
      - {manual: point DNS at the new server, takes: 2m}
    checks:
      - ledger: db
      - http: "http://127.0.0.1:${SHOP_WEB_PORT}/health"
      - {sql: "SELECT count(*) FROM orders", service: db, at_least: 2}
    targets: {rto: 10m, rpo: 1m, phases: {execution: 5m}, discard_window: 1s}
    accept:
      - {target: rpo, reason: the WAL shipping is drilled elsewhere, by: test, until: "2999-12-31"}
  accidental-delete:
    # web's /health reads no table: only the plan's monitor sees the orders go
    fault: {procedure: delete-orders, service: db}
    detect:
      monitor: {sql: "SELECT count(*) FROM orders", service: db, at_least: 2}
      every: 250ms
    recovery:
      - procedure: restore
    checks:
      - {sql: "SELECT count(*) FROM orders", service: db, at_least: 2}
    targets: {rto: 10m, rpo: 25h, discard_window: 10m}
  no-restore:
    fault: {lose_server: db}
    recovery: [{provision: db}]
    checks:
      - {sql: "SELECT count(*) FROM orders", service: db, at_least: 2}
    recovery_timeout: 10s
    targets: {rto: 10m, rpo: 1s}
"""


def write_project(root: Path) -> Path:
    (root / "web").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "compose.yaml").write_text(COMPOSE)
    (root / "web" / "web.py").write_text(WEB)
    (root / "web" / "web.py").chmod(0o644)
    (root / "web").chmod(0o755)
    for name, text in (("seed", SEED), ("backup", BACKUP), ("restore", RESTORE)):
        path = root / "scripts" / f"{name}.sh"
        path.write_text(text)
        path.chmod(0o755)
    (root / "plan.yaml").write_text(PLAN)
    return root / "plan.yaml"


def ports_env() -> dict[str, str]:
    return {"SHOP_DB_PORT": str(free_port()), "SHOP_WEB_PORT": str(free_port()),
            "SHOP_DB_PASSWORD": uuid.uuid4().hex, "DRILLS_IMAGES": "offline"}


def scenarios_of(run_dir: Path) -> dict[str, dict[str, Any]]:
    summary = json.loads((run_dir / "summary.json").read_text())
    return {s["name"]: s for s in summary["scenarios"]}


def rows(scenario: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in scenario["targets"]}


def failing(scenario: dict[str, Any]) -> set[str]:
    """The keys of the rows that did not pass."""
    return {t["key"] for t in scenario["targets"] if t["verdict"] != "pass"}


@pytest.mark.compose
def test_a_teams_compose_project_drilled_with_its_own_scripts(tmp_path: Path) -> None:
    plan = write_project(tmp_path / "shop")
    run_id = f"itest-own-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(plan), "--runtime", "compose", "--out",
                     str(tmp_path / "reports"), "--run-id", run_id, env=ports_env(),
                     timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr  # no-restore must fail
    found = scenarios_of(tmp_path / "reports" / run_id)

    loss = found["server-loss"]
    assert loss["verdict"] == "pass", json.dumps(loss["targets"], indent=1)
    target = rows(loss)
    assert target["plan.rpo"]["measured"].endswith("accepted by test until 2999-12-31: the "
                                                   "WAL shipping is drilled elsewhere")
    # the RTO: measured, plus the manual step as stated, and the script as its own phase
    assert "+ 120.0 s stated for manual steps" in target["rto_s"]["measured"]
    assert target["rto_s"]["measured_value"] == pytest.approx(loss["rto_s"] + 120.0)
    phases = {p["name"]: p["duration_s"] for p in loss["rto"]["phases"]}
    assert phases["recovery: procedure restore"] > 0
    assert target["phase.execution"]["verdict"] == "pass"
    # the RPO from drills' ledger in the team's database: the writes after the dump, whose
    # window is the compressed schedule (4 s between the dump's start and the loss)
    backup = loss["backups"][0]
    assert loss["lost_writes"] > 0
    # (the dump's snapshot comes after `docker compose exec` started it: up to a second
    # later on a busy 2-core machine)
    assert 4.0 - 1.0 <= loss["rpo_s"] <= 4.0 + backup["duration_s"] + 1.0, loss["rpo_s"]
    assert target["restore.complete"]["verdict"] == "pass"
    assert loss["restore"]["missing_before_point"] == 0
    assert loss["projection"]["worst_case_rpo_s"] >= 86400
    checks = [t for k, t in target.items() if k.startswith("check.")]
    assert [c["verdict"] for c in checks] == ["pass", "pass", "pass"], checks
    assert checks[0]["title"].startswith("the write ledger in db")
    assert "answered 2" in checks[2]["measured"]
    logs = tmp_path / "reports" / run_id / "server-loss" / "logs"
    restore_log = next(logs.glob("procedure-*-restore.log"))
    assert restore_log.exists()

    deleted = found["accidental-delete"]  # issue 20: detected by the plan's monitor
    assert deleted["verdict"] == "pass", json.dumps(deleted["targets"], indent=1)
    journal = json.loads((tmp_path / "reports" / run_id / "accidental-delete"
                          / "journal.json").read_text())
    ends = {e["name"]: e["data"] for e in journal["events"] if e["kind"] == "step.end"}
    assert ends["detect the disaster"].get("by_monitor"), ends["detect the disaster"]
    assert ends["verify: the monitor passes again"]["ok"]
    assert deleted["rto_s"] > 0 and {p["name"] for p in deleted["rto"]["phases"]} >= {
        "recovery: procedure restore"}

    forgot = found["no-restore"]
    assert forgot["verdict"] == "fail"
    codes = {f["code"] for f in forgot["findings"]}
    assert {"CHECK_FAILED", "RPO_EXCEEDED"} <= codes, codes
    assert rows(forgot)["check.1"]["verdict"] == "fail"
    # the new server answers, without drills' ledger: every write is gone, measured as such
    assert forgot["lost_writes"] == forgot["acked_writes"] > 0
    assert rows(forgot)["rpo_s"]["verdict"] == "fail"
    assert labelled(run_id) == []  # its project's containers and volumes are gone


@pytest.mark.compose
def test_a_plan_pointing_at_a_running_stack_is_refused(tmp_path: Path) -> None:
    plan = write_project(tmp_path / "shop")
    env = ports_env()
    run_id = f"itest-own-{uuid.uuid4().hex[:6]}"
    with socket.create_server(("127.0.0.1", int(env["SHOP_DB_PORT"]))):  # "their" database
        done = drill_cli("run", "--plan", str(plan), "--runtime", "compose", "--out",
                         str(tmp_path / "reports"), "--run-id", run_id, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"127.0.0.1:{env['SHOP_DB_PORT']} (service db) already answers" in done.stderr
    assert not (tmp_path / "reports" / run_id).exists()
    assert labelled(run_id) == []


@pytest.mark.compose
@pytest.mark.parametrize(("change", "words"), [
    ("    volumes: [pgdata:/var/lib/postgresql/data]",
     "mounts"),
    ("volumes:\n  pgdata:\n", "is external"),
    ("    network_mode: host\n    environment:\n      POSTGRES_USER", "container_name"),
])
def test_a_compose_file_reaching_outside_the_project_is_refused(
        tmp_path: Path, change: str, words: str) -> None:
    plan = write_project(tmp_path / "shop")
    compose = tmp_path / "shop" / "compose.yaml"
    text = compose.read_text()
    if words == "mounts":
        text = text.replace(change, "    volumes: [./data:/var/lib/postgresql/data]")
    elif words == "is external":
        text = text.replace(change, "volumes:\n  pgdata:\n    external: true\n")
    else:
        text = text.replace(change, "    container_name: shop-db\n" + change, 1)
    compose.write_text(text)
    done = drill_cli("run", "--plan", str(plan), "--runtime", "compose", "--out",
                     str(tmp_path / "reports"), env=ports_env())
    assert done.returncode == 2, done.stdout + done.stderr
    assert "will not bring this up as its own project" in done.stderr
    assert words in done.stderr


@pytest.mark.compose
def test_a_privileged_service_is_refused_unless_the_plan_allows_it(tmp_path: Path) -> None:
    """Issue 21: host access refused before anything starts, or allowed and shown."""
    from drills.stack import engine

    plan = write_project(tmp_path / "shop")
    compose = tmp_path / "shop" / "compose.yaml"
    compose.write_text(compose.read_text().replace(
        "    network_mode: host\n    environment:\n      POSTGRES_USER",
        "    network_mode: host\n    privileged: true\n    environment:\n      POSTGRES_USER", 1))
    env, run_id = ports_env(), f"itest-own-{uuid.uuid4().hex[:6]}"
    started = int(time.time()) - 1
    for command in (("run", "--plan", str(plan), "--runtime", "compose", "--out",
                     str(tmp_path / "reports"), "--run-id", run_id), ("check", str(plan))):
        done = drill_cli(*command, env=env)
        assert done.returncode == 2, done.stdout + done.stderr
        for words in (str(compose), "service db: privileged: true",
                      "stack.allow: {db: [privileged]}"):
            assert words in done.stderr, done.stderr
    docker = engine.client()
    try:  # the engine's own record: no container of the run's project was ever created
        events = docker.events(since=started, until=int(time.time()) + 1, decode=True,
                               filters={"type": "container", "event": "create"})
        created = [e for e in events if str(e.get("Actor", {}).get("Attributes", {}).get(
            "com.docker.compose.project", "")).startswith(f"drills-{run_id}")]
    finally:
        docker.close()
    assert created == [] and labelled(run_id) == []
    plan.write_text(plan.read_text().replace("  setup: [seed]\n",
                                             "  setup: [seed]\n  allow: {db: [privileged]}\n"))
    done = drill_cli("check", str(plan), env=env)
    assert done.returncode == 0, done.stdout + done.stderr  # its one gap is accepted
    assert "host access allowed by the plan: db: privileged (privileged: true)" in done.stdout


@pytest.mark.compose
def test_an_allowance_used_is_shown_in_the_journal_and_the_report(tmp_path: Path) -> None:
    """A read-only bind outside the project, allowed (host_path): recorded and shown."""
    plan = write_project(tmp_path / "shop")
    compose = tmp_path / "shop" / "compose.yaml"
    compose.write_text(compose.read_text().replace(
        "    volumes: [pgdata:/var/lib/postgresql/data]",
        f"    volumes: [pgdata:/var/lib/postgresql/data, '{tmp_path}:/elsewhere:ro']", 1))
    plan.write_text(plan.read_text().replace("  setup: [seed]\n",
                                             "  setup: [seed]\n  allow: {db: [host_path]}\n"))
    run_id = f"itest-own-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(plan), "--runtime", "compose", "--out",
                     str(tmp_path / "reports"), "--run-id", run_id, "--scenario",
                     "accidental-delete", env=ports_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = tmp_path / "reports" / run_id
    journal = json.loads((run_dir / "accidental-delete" / "journal.json").read_text())
    assert journal["environment"]["runtime"]["allowed"] == {"db": ["host_path"]}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["scenarios"][0]["environment"]["runtime"]["allowed"] == {"db": ["host_path"]}
    assert "<th>allowed by the plan</th><td class=\"mono\">db: host_path</td>" in \
        (run_dir / "index.html").read_text()
    assert labelled(run_id) == []


@pytest.mark.compose
def test_seed_000_its_compose_project_and_scripts(tmp_path: Path) -> None:
    """VENTRA's plan as written: api + worker + PostgreSQL + Redis, its dump and restore."""
    env = {"VENTRA_DB_PASSWORD": uuid.uuid4().hex, "VENTRA_NETWORK_MODE": "host",
           "VENTRA_BIND": "127.0.0.1", "VENTRA_DB_HOST": "127.0.0.1",
           "VENTRA_REDIS_HOST": "127.0.0.1", "DRILLS_IMAGES": "offline",
           **{f"VENTRA_{s}_PORT": str(free_port()) for s in ("DB", "REDIS", "API", "WORKER")}}
    run_id = f"itest-seed000-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(REPO / "examples" / "ventra" / "drill-plan.yaml"),
                     "--runtime", "compose", "--out", str(tmp_path), "--run-id", run_id,
                     env=env, timeout=900)
    # their plan promises an RPO of 6 h on a daily dump: the drill's verdict says so
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    found = scenarios_of(tmp_path / run_id)
    assert set(found) == {"db-crash", "redis-crash", "server-loss"}
    assert found["db-crash"]["verdict"] == found["redis-crash"]["verdict"] == "pass"
    assert failing(found["server-loss"]) == {"plan.rpo"}, rows(found["server-loss"])
    loss = rows(found["server-loss"])
    assert "+ 300.0 s stated for manual steps" in loss["rto_s"]["measured"]
    assert loss["check.3"]["measured"] == "answered 3 (wanted >= 3)"  # the accounts came back
    assert found["db-crash"]["lost_writes"] == 0
    journal = json.loads((tmp_path / run_id / "server-loss" / "journal.json").read_text())
    background = [e for e in journal["events"] if e["kind"] == "step.end"
                  and e["name"].startswith("background load: api.py")]
    assert background and background[0]["data"]["requests"] > 0, background
    assert labelled(run_id) == []


def test_seed_002_on_drills_own_servers_local(tmp_path: Path) -> None:
    """The bot's plan, with built-in servers: its dump and restore scripts on the host."""
    run_id = f"itest-seed002-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(REPO / "examples" / "bot-service" / "drill-plan.yaml"),
                     "--runtime", "local", "--out", str(tmp_path), "--run-id", run_id,
                     "--scenario", "postgres-loss", "--scenario", "kill-pg", timeout=900)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the plan itself already misses a target" in done.stderr  # RPO 15 min, daily dump
    found = scenarios_of(tmp_path / run_id)
    loss = found["postgres-loss"]
    assert failing(loss) == {"plan.rpo"}, rows(loss)  # the only gap: the plan's own
    assert rows(loss)["plan.rpo"]["resolution"] == "projection, not measured"
    assert found["kill-pg"]["verdict"] == "pass"
    assert 5.0 - 0.5 <= loss["rpo_s"] <= 5.0 + loss["backups"][0]["duration_s"] + 1.0
    assert rows(loss)["check.1"]["title"].startswith("the write ledger in postgres")
    assert rows(loss)["check.1"]["verdict"] == "pass"
    assert rows(loss)["check.2"]["measured"].endswith("/health: 200")  # the bot's health
    assert rows(loss)["check.3"]["measured"] == "answered 3 (wanted >= 3)"
    assert {p["name"] for p in loss["rto"]["phases"]} >= {"recovery: procedure restore-db"}
    assert found["kill-pg"]["lost_writes"] == 0
    tables = rows(loss)["restore.tables"]  # leads: unchanged since the dump, all 3 back
    assert tables["verdict"] == "pass" and tables["measured"].startswith("1 of 1 tables present")


def test_a_dump_that_leaves_out_a_table_fails_with_no_check_written(tmp_path: Path) -> None:
    """Issue 19: `pg_dump -T invoice_line` restored without an error and passed."""
    import shutil

    example = tmp_path / "bot-service"
    shutil.copytree(REPO / "examples" / "bot-service", example)
    migrate = example / "scripts" / "migrate.sh"
    migrate.write_text(migrate.read_text().replace(
        "SQL\n", "CREATE TABLE IF NOT EXISTS invoice_line (id int PRIMARY KEY);\n"
        "INSERT INTO invoice_line SELECT g FROM generate_series(1, 40) g ON CONFLICT DO NOTHING;"
        "\nSQL\n", 1))
    backup = example / "scripts" / "backup-db.sh"
    backup.write_text(backup.read_text().replace("  --format=custom \\\n",
                                                 "  --format=custom -T invoice_line \\\n"))
    assert "invoice_line" in migrate.read_text() and "-T invoice_line" in backup.read_text()
    run_id = f"itest-omit-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(example / "drill-plan.yaml"), "--runtime", "local",
                     "--out", str(tmp_path / "out"), "--run-id", run_id,
                     "--scenario", "postgres-loss", timeout=900)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    loss = scenarios_of(tmp_path / "out" / run_id)["postgres-loss"]
    tables = rows(loss)["restore.tables"]
    assert tables["verdict"] == "fail", tables
    assert "missing after the restore: invoice_line" in tables["reason"]
    assert "RESTORE_TABLES_INCOMPLETE" in {f["code"] for f in loss["findings"]}
    assert rows(loss)["check.3"]["verdict"] == "pass"  # the team's own checks saw nothing


def test_drill_check_on_the_examples_starts_nothing() -> None:
    for example, words in (("ventra", "RPO 6 h"), ("bot-service", "RPO 15 min")):
        done = drill_cli("check", str(REPO / "examples" / example / "drill-plan.yaml"))
        assert done.returncode == 1, done.stdout + done.stderr
        assert words in done.stdout
        assert "taken every 24 h" in done.stdout


MY_DRILL = '''
import pytest

from drills import Drill, Freeze, PostgresSettings, Verdict


@pytest.mark.drill("my-freeze")
def test_my_freeze(drill: Drill) -> None:
    pg = drill.stack(postgres=PostgresSettings())["postgres"]
    with drill.load(pg):
        drill.warm_up()
        with drill.fault(Freeze(pg)):
            drill.wait(1.0, "frozen")
        drill.wait_for_service()
        drill.hold()
    result = drill.conclude()
    assert result.verdict == Verdict.PASS, result.explain()
'''


def test_a_teams_python_drill_named_by_the_plan(tmp_path: Path) -> None:
    """`code: true`: the team's own drill runs with the plan's targets, beside a built-in."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "test_mine.py").write_text(MY_DRILL)
    plan = tmp_path / "plan.yaml"
    plan.write_text("""
version: 2
defaults: {workload: {users: 2, warmup: 1s, hold: 1s}}
scenarios:
  my-freeze: {code: true, targets: {rto: 10s, max_lost_writes: 0}}
  frozen-briefly: {builtin: postgres-freeze, params: {freeze_s: 1}, targets: {rto: 10s}}
""")
    run_id = f"itest-code-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(plan), "--scenarios", str(tmp_path / "mine"),
                     "--runtime", "local", "--out", str(tmp_path / "reports"),
                     "--run-id", run_id)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = scenarios_of(tmp_path / "reports" / run_id)
    assert set(found) == {"my-freeze", "frozen-briefly"}
    assert rows(found["my-freeze"])["rto_s"]["target_value"] == 10.0
    assert rows(found["frozen-briefly"])["calibration.rto"]["verdict"] == "pass"

    plan.write_text(plan.read_text() + "  forgotten: {code: true, targets: {rto: 1m}}\n")
    done = drill_cli("run", "--plan", str(plan), "--scenarios", str(tmp_path / "mine"),
                     "--runtime", "local", "--out", str(tmp_path / "reports"))
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert "forgotten: your Python drill: no test marked" in done.stdout + done.stderr


def readme_files() -> dict[str, str]:
    """The files of the README's "From an empty directory", by the name after the fence."""
    text = (REPO / "README.md").read_text()
    section = text.split("### From an empty directory", 1)[1].split("### The format", 1)[0]
    files = {}
    for block in section.split("```")[1::2]:
        header, _, body = block.partition("\n")
        parts = header.split()
        if len(parts) == 2:
            files[parts[1]] = body
    return files


@pytest.mark.compose
def test_the_readme_walkthrough_from_an_empty_directory(tmp_path: Path) -> None:
    files = readme_files()
    assert set(files) == {"compose.yaml", "web/web.py", "scripts/seed.sh",
                          "scripts/backup.sh", "scripts/restore.sh", "plan.yaml"}
    shop = tmp_path / "shop"
    for name, body in files.items():
        (shop / name).parent.mkdir(parents=True, exist_ok=True)
        (shop / name).write_text(body)
        (shop / name).chmod(0o755 if name.endswith(".sh") else 0o644)
    (shop / "web").chmod(0o755)
    env = {"SHOP_DB_PASSWORD": uuid.uuid4().hex, "SHOP_NETWORK": "host",
           "SHOP_BIND": "127.0.0.1", "SHOP_DB_HOST": "127.0.0.1",
           "SHOP_DB_PORT": str(free_port()), "SHOP_WEB_PORT": str(free_port()),
           "SHOP_WEB_IMAGE": "drills/app:1", "DRILLS_IMAGES": "offline"}
    check = drill_cli("check", str(shop / "plan.yaml"), env=env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "RPO 1 h, but the recovery restores backup job nightly" in check.stdout
    run_id = f"itest-readme-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(shop / "plan.yaml"), "--out",
                     str(tmp_path / "reports"), "--run-id", run_id, env=env, timeout=900)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    loss = scenarios_of(tmp_path / "reports" / run_id)["server-loss"]
    assert failing(loss) == {"plan.rpo"}, rows(loss)  # RPO 1 h on a nightly dump
    target = rows(loss)
    assert "+ 300.0 s stated for manual steps" in target["rto_s"]["measured"]
    assert 5.0 - 1.0 <= loss["rpo_s"] <= 5.0 + loss["backups"][0]["duration_s"] + 1.0
    # the ledger, the web's health, the orders count
    assert [t["verdict"] for k, t in target.items() if k.startswith("check.")] == \
        ["pass", "pass", "pass"]
    html = (tmp_path / "reports" / run_id / "index.html").read_text()
    assert "contradicts its own targets" in html and "no earlier run of it" in html
    assert labelled(run_id) == []


@pytest.mark.compose
def test_ctrl_c_mid_procedure_leaves_nothing(tmp_path: Path) -> None:
    """Ctrl-C while the team's restore script runs: the script's whole process group, the
    compose project with its volumes and the backups go; exit 130."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    import time

    from tests.integration.conftest import processes_mentioning

    plan = write_project(tmp_path / "shop")
    marker = f"drills-itest-{uuid.uuid4().hex}"
    (tmp_path / "shop" / "scripts" / "restore.sh").write_text(
        f"#!/usr/bin/env bash\n(exec -a {marker} sleep 300) &\nexec -a {marker} sleep 300\n")
    run_id = f"itest-own-int-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drills.cli", "run", "--plan", str(plan), "--scenario",
         "server-loss", "--runtime", "compose", "--out", str(tmp_path / "reports"),
         "--run-id", run_id], cwd=REPO, env={**os.environ, **ports_env()},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not processes_mentioning(marker):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the restore script never started"
            time.sleep(0.2)
        assert labelled(run_id), "no container or volume of the run to clean up"
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, out[-3000:]
    assert processes_mentioning(marker) == []
    assert labelled(run_id) == []
    assert list(Path(tempfile.gettempdir()).glob(f"drills-{run_id}-*")) == []


def test_an_accidental_delete_detected_by_the_plans_monitor(tmp_path: Path) -> None:
    """Issue 20: a DELETE behind a shallow /health ended "nothing to detect" beside an RTO of
    0 s. The bot's plan declares its monitor; the RTO runs to the verified restore."""
    run_id = f"itest-delete-{uuid.uuid4().hex[:6]}"
    done = drill_cli("run", "--plan", str(REPO / "examples" / "bot-service" / "drill-plan.yaml"),
                     "--runtime", "local", "--out", str(tmp_path), "--run-id", run_id,
                     "--scenario", "accidental-delete", timeout=900)
    found = scenarios_of(tmp_path / run_id)["accidental-delete"]
    target = rows(found)
    assert failing(found) == {"plan.rpo"}, target  # the plan's daily dump, nothing else
    assert done.returncode == 1
    events = json.loads((tmp_path / run_id / "accidental-delete" / "journal.json").read_text())
    steps = {e["name"]: e for e in events["events"] if e["kind"] == "step.end"}
    detected = steps["detect the disaster"]["data"]
    assert detected["ok"] and "the monitor failed" in detected["mechanism"]
    assert "answered 0 (wanted >= 3)" in detected["mechanism"]
    assert steps["verify: the monitor passes again"]["data"]["ok"]
    # the RTO runs from the DELETE to the verified restore, not to the probe's first answer
    phases = {p["name"]: p["duration_s"] for p in found["rto"]["phases"]}
    assert phases["recovery: procedure restore-db"] > 0
    assert target["rto_s"]["verdict"] == "pass"
    assert target["rto_s"]["measured_value"] > phases["recovery: procedure restore-db"]
