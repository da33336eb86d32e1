"""Benchmark: the drill's restore steps against the raw tools, on one server, in one run.

Run on demand (not a test): ``make bench-restore`` or
``.venv/bin/python bench/restore.py [--size 200MB] [--rounds 3]``.

On one local PostgreSQL with WAL archiving and a dataset of ``--size``:
1. one ``pg_dump -Fc`` taken the drill's way (exported snapshot, then verified);
2. ``rounds`` times, alternating: the drill's RestoreDump step (CREATE DATABASE, pg_restore
   -j 2, exact row count, size) and a raw ``createdb`` + ``pg_restore -j 2`` of the same
   dump, each into a fresh database; prints the medians and their ratio;
3. a base backup (timed, verified), then 20 s of inserts, then RestoreBaseBackup and
   ReplayWal to the end of the archive (times of each);
4. a DROP TABLE, then FindAccident (pg_waldump), RestoreBaseBackup to just before it and
   ReplayWal (times of each).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.accident import Accident
from drills.kinds.postgres.backup import BaseBackup, PgDump
from drills.kinds.postgres.restore import (
    RESTORE_DATABASE,
    FindAccident,
    ReplayWal,
    RestoreBaseBackup,
    RestoreDump,
)
from drills.kinds.postgres.settings import PostgresSettings
from drills.plan.reader import PlanReader
from drills.runtime.local import LocalRuntime
from drills.stack.stack import Stack


def timed(what: str, action):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    result = action()
    took = time.monotonic() - start
    print(f"  {what:<52} {took:8.2f} s", flush=True)
    return result, took


def sql(service, statement: str, database: str = "postgres") -> str:  # type: ignore[no-untyped-def]
    done = service.exec(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", database, "-c",
                         statement], timeout_s=3600)
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode())
    return str(done.stdout.decode().strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="200MB", help="dataset size (default 200MB)")
    parser.add_argument("--rounds", type=int, default=3, help="restores of each kind")
    args = parser.parse_args()
    size = PlanReader(Path("--size")).size(args.size, "--size", 64 * 10**9)

    runtime = LocalRuntime("bench-restore", Path(tempfile.mkdtemp(prefix="bench-restore-logs-")))
    with Stack(runtime, runtime.services({"pg": PostgresSettings(archive=True)})) as stack:
        pg = stack["pg"]
        pg_store.prepare(pg.endpoint)
        loaded, _ = timed(f"load a {size / 1e6:.0f} MB dataset", lambda: pg_store.load_dataset(
            pg.endpoint, size))
        print(f"  dataset: {loaded['rows']:,} rows, {loaded['bytes'] / 1e6:.0f} MB on disk")

        dump_method = PgDump(pg)
        dump, _ = timed("pg_dump -Fc (exported snapshot)", lambda: dump_method.take("dump"))
        check, _ = timed("verify: pg_restore --list, pg_restore -f /dev/null",
                         lambda: dump_method.verify(dump))
        assert check.ok, check.detail
        print(f"  dump: {dump.size_bytes / 1e6:.1f} MB")

        drill_times, raw_times = [], []
        for i in range(args.rounds):
            sql(pg, f"DROP DATABASE IF EXISTS {RESTORE_DATABASE}")
            step = RestoreDump(pg, dump, jobs=2)
            done, took = timed(f"round {i + 1}: the drill's RestoreDump step",
                               lambda step=step: step.run(3600))  # type: ignore[misc]
            drill_times.append(took)
            if i == 0:  # the step counts rows from the statistics: check them once
                exact = sum(int(sql(pg, f"SELECT count(*) FROM {t}", RESTORE_DATABASE))
                            for t in sql(pg, "SELECT relname FROM pg_stat_user_tables",
                                         RESTORE_DATABASE).split())
                print(f"  rows: {done.facts['rows']:,} by the step (statistics), {exact:,} "
                      "by count(*)")
            sql(pg, f"DROP DATABASE {RESTORE_DATABASE}")

            def raw() -> None:
                sql(pg, "CREATE DATABASE bench_raw")
                done = pg.exec(["pg_restore", "-j", "2", "--exit-on-error", "--no-owner",
                                "-d", "bench_raw", dump.inside], timeout_s=3600)
                assert done.returncode == 0, done.stderr.decode()

            _, took = timed(f"round {i + 1}: raw createdb + pg_restore -j 2", raw)
            raw_times.append(took)
            sql(pg, "DROP DATABASE bench_raw")
        drill_median, raw_median = statistics.median(drill_times), statistics.median(raw_times)
        print(f"  restore of a {dump.size_bytes / 1e6:.1f} MB dump: drill {drill_median:.2f} s, "
              f"raw {raw_median:.2f} s, ratio {drill_median / raw_median:.3f} "
              f"(medians of {args.rounds})")

        base_method = BaseBackup(pg)
        base, _ = timed("pg_basebackup (plain, WAL streamed, manifest)",
                        lambda: base_method.take("base"))
        checked, _ = timed("verify: pg_verifybackup", lambda: base_method.verify(base))
        assert checked.ok, checked.detail
        print(f"  base backup: {base.size_bytes / 1e6:.1f} MB")
        with pg_store.connect(pg.endpoint) as conn:
            conn.execute("CREATE TABLE bench_after (id bigint, v text)")
            end = time.monotonic() + 20
            n = 0
            while time.monotonic() < end:
                conn.execute("INSERT INTO bench_after SELECT g, md5(g::text) FROM "
                             "generate_series(%s::bigint, %s::bigint) g", (n, n + 999))
                n += 1000
        print(f"  after the base backup: {n:,} rows inserted over 20 s")
        timed("restore the base backup (server stopped, files copied)",
              lambda: RestoreBaseBackup(pg, base).run(3600))
        done, _ = timed("replay the archived WAL to its end and promote",
                        lambda: ReplayWal(pg).run(3600))
        print(f"  replayed to {done.facts['lsn_after']}, timeline {done.facts['timeline']}, "
              f"{done.facts['archived_segments']} archived segments")

        base2, _ = timed("pg_basebackup again (on the new timeline)",
                         lambda: base_method.take("base2"))
        with pg_store.connect(pg.endpoint) as conn:  # after the backup: only the WAL has them
            conn.execute(f"INSERT INTO {pg_store.TABLE} (id, value) SELECT g, md5(g::text) "
                         "FROM generate_series(1, 10000) g")
        Accident(pg, "drop").inject()
        found, _ = timed("find the DROP TABLE with pg_waldump",
                         lambda: FindAccident(pg, base2).run(600))
        timed("restore the base backup, target: just before it",
              lambda: RestoreBaseBackup(pg, base2, int(found.facts["xid"])).run(3600))
        timed("replay to the target and promote", lambda: ReplayWal(pg, to_end=False).run(3600))
        count = sql(pg, f"SELECT count(*) FROM {pg_store.TABLE}", "drills")
        print(f"  after PITR the dropped table is back with {count} of the 10000 rows written "
              "after the base backup")


if __name__ == "__main__":
    main()
