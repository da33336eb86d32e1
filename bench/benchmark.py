"""Benchmark: the workload's acknowledged write rate against pgbench on the same server.

Run on demand (not a test): ``make bench`` or ``.venv/bin/python bench/benchmark.py``.
For each N it starts one PostgreSQL (the local runtime, the drill's settings), runs
pgbench single-row inserts with N clients, then the drills workload (Locust, every
write recorded) with N users, for the same duration, then the same N users spread over
``--workers`` Locust worker processes (distributed mode, a history each), and prints the
rates and their ratios to pgbench's, with where the machine's CPU went. Then, per
runtime (local processes, compose containers), it times bringing the
stack (PostgreSQL + Redis) up and down, and `drill run --scenario postgres-kill` end to
end, reading the RTO and the probe interval reached from its journal; and it prints the
sizes of the compose images.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from drills import kinds
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.local import postgres_bindir
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis.settings import RedisSettings
from drills.plan import WorkloadSpec
from drills.record.history import Outcome, read_history
from drills.runtime import choose
from drills.runtime.local import LocalRuntime
from drills.stack import engine
from drills.stack.stack import Stack
from drills.workload.runner import Workload

REPO = Path(__file__).resolve().parents[1]
INSERT_SQL = "INSERT INTO bench_pgbench (value) VALUES (md5(random()::text));\n"


def pgbench_rate(stack: Stack, clients: int, seconds: float, work: Path) -> float:
    ep = stack["postgres"].endpoint
    with pg_store.connect(ep) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_pgbench (id bigserial PRIMARY KEY, "
                     "value text NOT NULL)")
    script = work / "insert.sql"
    script.write_text(INSERT_SQL)
    done = subprocess.run(
        [str(postgres_bindir() / "pgbench"), "-n", "-M", "prepared", "-c", str(clients),
         "-j", str(min(clients, os.cpu_count() or 1)), "-T", str(int(seconds)), "-f", str(script),
         "-h", ep.host, "-p", str(ep.port), "-U", str(ep.user), str(ep.database)],
        env={**os.environ, "PGPASSWORD": ep.password}, capture_output=True, text=True, check=True,
    )
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("tps"))
    return float(line.split("=")[1].split()[0])


def _cpu_ticks() -> tuple[int, int, dict[str, int]]:
    """(busy, total) ticks of the machine, and ticks used so far by postgres and Locust."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    groups = {"postgres": 0, "load generators": 0}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        group = "postgres" if b"postgres" in cmd[:200] else \
            "load generators" if b"locust_child" in cmd else None
        if group:
            groups[group] += int(stat[11]) + int(stat[12])  # utime + stime
    return sum(fields) - idle, sum(fields), groups


def cpu_split(before: tuple[int, int, dict[str, int]],
              after: tuple[int, int, dict[str, int]]) -> str:
    """Where the machine's CPU went between two readings of ``_cpu_ticks``."""
    total = max(1, after[1] - before[1])
    parts = [f"busy {(after[0] - before[0]) / total:.0%}"]
    parts += [f"{name} {(after[2][name] - before[2].get(name, 0)) / total:.0%}"
              for name in after[2]]
    return ", ".join(parts)


LAST_CPU: dict[str, str] = {}


def workload_rate(stack: Stack, users: int, seconds: float, work: Path,
                  workers: int = 0) -> float:
    """Acknowledged writes a second of the drills workload: one process, or ``workers``."""
    ep = stack["postgres"].endpoint
    pg_store.prepare(ep)
    with pg_store.connect(ep) as conn:  # ids restart at 1 in every run
        conn.execute(f"TRUNCATE {pg_store.TABLE}")
    ledger = work / f"ledger-{users}-{workers}"
    ledger.mkdir()
    spec = WorkloadSpec(users=users, workers=workers)
    with Workload(ep, spec, ledger / "history.bin", ledger):
        time.sleep(1.0 + workers)  # spawn, connect (and the workers join)
        start, ticks = time.monotonic(), _cpu_ticks()
        time.sleep(seconds)
        end = time.monotonic()
        LAST_CPU["text"] = cpu_split(ticks, _cpu_ticks())  # of the machine's 2 cores
    acked = sum(1 for op in read_history(sorted(ledger.glob("history*.bin")))
                if op.outcome == Outcome.OK and op.complete_mono is not None
                and start <= op.complete_mono <= end)
    return acked / (end - start)


def stack_up_down(runtime: str, work: Path, rounds: int = 3) -> tuple[float, float]:
    """Median seconds to bring postgres + redis up (ready) and to tear them down."""
    ups, downs = [], []
    for i in range(rounds):
        made = choose.factory(runtime)(f"bench-up-{runtime}-{i}", work / "logs")
        stack = Stack(made, made.services({"postgres": PostgresSettings(),
                                           "redis": RedisSettings()}))
        started = time.monotonic()
        with stack:
            ups.append(time.monotonic() - started)
            started = time.monotonic()
        downs.append(time.monotonic() - started)
    return statistics.median(ups), statistics.median(downs)


def image_sizes() -> list[tuple[str, float]]:
    docker = engine.client()
    try:
        return [(k.image(), docker.images.get(k.image()).attrs["Size"] / 1e6)
                for k in kinds.all_kinds()]
    finally:
        docker.close()


def drill_wall_time(out: Path, runtime: str) -> dict[str, float]:
    started = time.monotonic()
    run_id = f"bench-{runtime}"
    subprocess.run([sys.executable, "-m", "drills.cli", "run", "--scenario", "postgres-kill",
                    "--runtime", runtime, "--out", str(out), "--run-id", run_id], cwd=REPO,
                   check=True, capture_output=True)
    wall = time.monotonic() - started
    result = json.loads((out / run_id / "postgres-kill" / "result.json").read_text())
    journal = json.loads((out / run_id / "postgres-kill" / "journal.json").read_text())
    up = [e for e in journal["events"] if e["name"] == "stack up" and e["kind"].startswith("step")]
    return {"wall_s": wall, "stack_up_s": up[1]["mono"] - up[0]["mono"],
            "rto_s": result["rto_s"], "probe_interval_s": result["probe_interval_s"],
            "probe_interval_achieved_s": result["probe_interval_achieved_s"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2,
                        help="also measure the load from this many Locust workers (0: not)")
    parser.add_argument("--runtimes", nargs="*", default=["local", "compose"],
                        help="runtimes to time (none: only the rate comparison)")
    args = parser.parse_args()
    print(f"host: {os.uname().nodename}, {os.cpu_count()} cpus, {args.seconds:.0f} s per run")
    with tempfile.TemporaryDirectory(prefix="drills-bench-") as tmp:
        work = Path(tmp)
        runtime = LocalRuntime("bench", work / "logs")
        with Stack(runtime, runtime.services({"postgres": PostgresSettings()})) as stack:
            workers = f"{args.workers} workers acked/s" if args.workers else ""
            print(f"{'N':>3} {'pgbench tps':>12} {'workload acked/s':>17} {'ratio':>6} "
                  f"{workers:>21} {'ratio' if workers else '':>6}")
            for n in args.clients:
                pgbench = pgbench_rate(stack, n, args.seconds, work)
                ours = workload_rate(stack, n, args.seconds, work)
                line = f"{n:>3} {pgbench:>12.0f} {ours:>17.0f} {ours / pgbench:>6.2f}"
                single_cpu = LAST_CPU.get("text", "")
                if args.workers and n >= args.workers:
                    spread = workload_rate(stack, n, args.seconds, work, args.workers)
                    line += f" {spread:>21.0f} {spread / pgbench:>6.2f}"
                print(line, flush=True)
                print(f"    CPU, one process: {single_cpu}", flush=True)
                if args.workers and n >= args.workers:
                    print(f"    CPU, {args.workers} workers: {LAST_CPU.get('text', '')}",
                          flush=True)
        if args.runtimes:
            print(f"\n{'runtime':<8} {'stack up':>9} {'down':>6} {'postgres-kill wall':>19} "
                  f"{'(its stack up)':>15} {'RTO':>8} {'probe reached':>14}")
        for runtime in args.runtimes:
            up, down = stack_up_down(runtime, work)
            t = drill_wall_time(work / "reports", runtime)
            print(f"{runtime:<8} {up:>8.2f}s {down:>5.2f}s {t['wall_s']:>18.1f}s "
                  f"{t['stack_up_s']:>14.2f}s {t['rto_s']:>7.3f}s "
                  f"{t['probe_interval_achieved_s'] * 1000:>11.1f} ms", flush=True)
        if "compose" in args.runtimes:
            for name, size in image_sizes():
                print(f"image {name}: {size:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
