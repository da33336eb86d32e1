"""A team's backup job judged by what it made, on backups taken for real and cut on purpose.

Each backup is taken the way a team's job takes it (its own command writing into the
directory drills gives it), from a real local PostgreSQL or Redis, then verified as the
drill verifies it; then cut short, as a full disk or a failed pipe leaves it, and verified
again. A cut backup must fail with a detail that says what is wrong and what to do; the
whole one must pass. Before content verification, every non-empty file passed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from drills.backup import Backup, sha256_of
from drills.backup.procedure import ProcedureBackup
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.local import postgres_bindir
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis import store as redis_store
from drills.kinds.redis.settings import RedisSettings
from drills.plan.procedure_spec import BackupJob, Procedure
from drills.procedures.context import ProcedureContext, ServiceAccess
from drills.runtime import choose
from drills.stack.service import Service
from drills.stack.stack import Stack

pytestmark = pytest.mark.slow


@contextmanager
def one_server(name: str, settings: object, tmp: pytest.TempPathFactory) -> Iterator[Service]:
    """One local server (its own runtime), stopped and removed at the end."""
    runtime = choose.factory("local")(f"itest-team-backups-{name}", tmp.mktemp("logs"))
    with Stack(runtime, runtime.services({name: settings})) as made:
        yield made[name]


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with one_server("pg", PostgresSettings(), tmp_path_factory) as service:
        pg_store.prepare(service.endpoint)
        pg_store.load_dataset(service.endpoint, 400_000)  # data blocks past the TOC
        yield service


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with one_server("cache", RedisSettings(appendonly=True), tmp_path_factory) as service:
        redis_store.load_dataset(service.endpoint, 400_000)
        yield service


def team_job(service: Service, tmp_path: Path, script: str) -> ProcedureBackup:
    """The team's backup job: ``script`` (sh), with the service in its environment."""
    ep = service.endpoint
    access = ServiceAccess(host=ep.host, port=ep.port, user=ep.user, database=ep.database,
                           password=ep.password)
    ctx = ProcedureContext(run_dir=tmp_path, logs_dir=tmp_path / "logs",
                           services={service.name: access},
                           path_first=(str(postgres_bindir()),))
    s = service.name
    env = {"OUT": "{backup_dir}"}
    if service.kind == "postgres":
        env.update({"PGHOST": f"{{host:{s}}}", "PGPORT": f"{{port:{s}}}",
                    "PGUSER": f"{{user:{s}}}", "PGDATABASE": f"{{database:{s}}}",
                    "PGPASSWORD": f"{{password:{s}}}"})
    else:
        env["REDISCLI_AUTH"] = f"{{password:{s}}}"
    procedure = Procedure("backup", ("sh", "-c", f"set -e; {script}"), tmp_path, env, 120.0)
    job = BackupJob("nightly", s, None, "backup", 86400.0)
    return ProcedureBackup(service, job, procedure, ctx, tmp_path / "team-backups")


def cut(backup: Backup, share: float = 0.6, file: Path | None = None) -> None:
    """Cut the backup's file (or ``file`` in it) to ``share`` of its size, in place."""
    target = file or backup.host_path
    os.truncate(target, int(target.stat().st_size * share))


def test_a_custom_format_dump_passes_whole_and_fails_cut_to_60_percent(
        pg: Service, tmp_path: Path) -> None:
    job = team_job(pg, tmp_path, 'pg_dump -Fc -f "$OUT/shop.dump"')
    made = job.take("nightly-1")
    whole = job.verify(made)
    assert whole.ok is True, whole.detail
    assert "every data block read back" in whole.detail and "pg_restore" in whole.tool
    cut(made)
    broken = job.verify(made)
    assert broken.ok is False, broken.detail  # was "usable": any non-empty file passed
    assert broken.detail.startswith("shop.dump (PostgreSQL custom-format dump")
    assert "reading its data failed" in broken.detail and "end of file" in broken.detail
    assert "take it again" in broken.detail
    assert broken.to_dict()["verified"] is False


def test_a_directory_format_dump_with_a_data_file_cut_fails(pg: Service, tmp_path: Path) -> None:
    job = team_job(pg, tmp_path, 'pg_dump -Fd -f "$OUT/shop"')
    made = job.take("nightly-1")
    assert made.host_path.is_dir()
    assert job.verify(made).ok is True
    biggest = max(made.host_path.rglob("*.dat.gz"), key=lambda p: p.stat().st_size)
    cut(made, file=biggest)
    broken = job.verify(made)
    assert broken.ok is False, broken.detail
    assert "PostgreSQL directory-format dump" in broken.detail


def test_a_plain_sql_dump_fails_cut_and_passes_whole(pg: Service, tmp_path: Path) -> None:
    job = team_job(pg, tmp_path, 'pg_dump -f "$OUT/shop.sql"')
    made = job.take("nightly-1")
    whole = job.verify(made)
    assert whole.ok is True, whole.detail
    assert "complete to its end marker '-- PostgreSQL database dump complete'" in whole.detail
    cut(made)
    broken = job.verify(made)
    assert broken.ok is False, broken.detail
    assert "no end marker" in broken.detail and "cut short" in broken.detail


def test_a_gzip_sql_dump_cut_fails(pg: Service, tmp_path: Path) -> None:
    job = team_job(pg, tmp_path, 'pg_dump | gzip > "$OUT/shop.sql.gz"')
    made = job.take("nightly-1")
    whole = job.verify(made)
    assert whole.ok is True, whole.detail
    assert "gzip stream intact" in whole.detail
    cut(made)
    broken = job.verify(made)
    assert broken.ok is False, broken.detail
    assert "gzip stream is cut short" in broken.detail


def test_a_pg_dumpall_script_needs_the_cluster_end_marker(pg: Service, tmp_path: Path) -> None:
    """A database's own end marker inside a pg_dumpall script is not the script's end."""
    job = team_job(pg, tmp_path, 'pg_dumpall -f "$OUT/cluster.sql"')
    made = job.take("nightly-1")
    assert job.verify(made).ok is True
    text = made.host_path.read_bytes()
    end = text.rindex(b"-- PostgreSQL database cluster dump complete")
    made.host_path.write_bytes(text[:end])  # every database complete, the cluster not
    broken = job.verify(made)
    assert broken.ok is False, broken.detail
    assert "-- PostgreSQL database cluster dump complete" in broken.detail


def test_an_rdb_from_save_passes_whole_and_fails_cut(cache: Service, tmp_path: Path) -> None:
    ep = cache.endpoint
    job = team_job(cache, tmp_path, f"redis-cli --no-auth-warning -h {ep.host} -p {ep.port} "
                   f'SAVE; cp {cache.data_dir}/dump.rdb "$OUT/cache.rdb"')
    made = job.take("nightly-1")
    whole = job.verify(made)
    assert whole.ok is True, whole.detail
    assert "RDB looks OK" in whole.detail and "keys read" in whole.detail
    cut(made)
    broken = job.verify(made)
    assert broken.ok is False, broken.detail
    assert "Unexpected EOF" in broken.detail and "redis-check-rdb" in broken.tool


def test_a_multi_part_aof_cut_fails_and_is_left_as_it_was(cache: Service,
                                                         tmp_path: Path) -> None:
    ep = cache.endpoint
    job = team_job(cache, tmp_path, f"redis-cli --no-auth-warning -h {ep.host} -p {ep.port} "
                   f'PING; cp -a {cache.data_dir}/appendonlydir "$OUT/"')
    made = job.take("nightly-1")
    whole = job.verify(made)
    assert whole.ok is True, whole.detail
    assert "Redis multi-part AOF" in whole.detail
    incr = next(made.host_path.rglob("*.incr.aof"))
    data = incr.read_bytes()  # cut inside a command: at a command's end the AOF is whole
    os.truncate(incr, data.index(b"*3\r\n", len(data) * 6 // 10) + 2)
    before = {p: sha256_of(p) for p in made.host_path.rglob("*") if p.is_file()}
    broken = job.verify(made)
    assert broken.ok is False, broken.detail
    assert "not valid" in broken.detail
    assert {p: sha256_of(p) for p in before} == before  # never --fix: nothing changed
