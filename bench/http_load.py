"""Benchmark: the app's request rate under the drill's workload against wrk, and the
latency Toxiproxy adds.

Run on demand (not a test): ``make bench-http`` or ``.venv/bin/python bench/http_load.py``.
On one local stack (PostgreSQL, Redis, Toxiproxy, the reference app reaching both
through Toxiproxy) it runs, for the same duration and the same number of connections:

1. wrk (Debian's package): POST /items with a unique id per request, keep-alive;
2. the drill's workload: Locust's FastHttpUser, every write recorded in the op history;

and prints both acknowledged rates and their ratio. Then it times round trips on each
link, straight to the server and through its Toxiproxy proxy, and prints the p50s and
what the proxy adds: PostgreSQL ``SELECT 1`` and Redis ``PING``, one connection each.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from drills.kinds.app.settings import AppSettings
from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.settings import PostgresSettings
from drills.kinds.redis.settings import RedisSettings
from drills.kinds.toxiproxy.settings import ToxiproxySettings
from drills.plan import WorkloadSpec
from drills.record.history import Outcome, read_history
from drills.runtime.local import LocalRuntime
from drills.stack.capabilities import CarriesLinks, require
from drills.stack.stack import Stack
from drills.workload.runner import Workload

#: wrk's script: POST /items, ids unique across its threads (thread n: n * 10^12 + k)
WRK_SCRIPT = """
local threads = 0
function setup(thread)
  thread:set("base", threads * 1000000000000)
  threads = threads + 1
end
local k = 0
function request()
  k = k + 1
  return wrk.format("POST", "/items", {["Content-Type"] = "application/json"},
    string.format('{"id": %d, "value": "%016x"}', base + k, k))
end
local statuses = {}
function response(status)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  io.write(string.format("p50_us %d\\n", latency:percentile(50)))
end
"""


def wrk_rate(url: str, connections: int, seconds: float, work: Path) -> tuple[float, float]:
    """Requests/s answered 2xx, and the p50 latency (ms), by wrk."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT)
    done = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "-s",
                           str(script), url], capture_output=True, text=True, check=True)
    out = done.stdout
    total = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    ok_share = 1.0 - (int(bad.group(1)) / requests if bad and requests else 0.0)
    p50 = float(re.search(r"p50_us (\d+)", out).group(1)) / 1000  # type: ignore[union-attr]
    return total * ok_share, p50


def locust_rate(stack: Stack, users: int, seconds: float, work: Path) -> tuple[float, float]:
    """Acknowledged writes/s and their p50 latency (ms), by the drill's own workload."""
    history = work / "history.bin"
    with Workload(stack["app"].endpoint, WorkloadSpec(users=users), history, work):
        time.sleep(1.0)  # spawn and connect
        start = time.monotonic()
        time.sleep(seconds)
        end = time.monotonic()
    acked = [op for op in read_history(history) if op.outcome == Outcome.OK
             and op.complete_mono is not None and start <= op.complete_mono <= end]
    p50 = statistics.median(op.latency_s or 0.0 for op in acked) * 1000 if acked else 0.0
    return len(acked) / (end - start), p50


def p50_ms(call: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def link_latency(stack: Stack, rounds: int) -> list[tuple[str, float, float]]:
    """(link, p50 direct ms, p50 through Toxiproxy ms) for the database and the cache."""
    proxy = require(stack["toxiproxy"], CarriesLinks, "benchmark")
    pg, cache = stack["postgres"].endpoint, stack["redis"].endpoint
    rows = []
    pg_link = proxy.link("app", "postgres")
    timings = []
    for host, port in ((pg.host, pg.port), (pg_link.listen_host, pg_link.listen_port)):
        with pg_store.connect(pg.__class__(pg.kind, host, port, pg.password, pg.user,
                                           pg.database)) as conn:
            conn.execute("SELECT 1")
            timings.append(p50_ms(lambda c=conn: c.execute("SELECT 1").fetchone(), rounds))
    rows.append(("app -> postgres (SELECT 1)", timings[0], timings[1]))
    redis_link = proxy.link("app", "redis")
    timings = []
    for host, port in ((cache.host, cache.port), (redis_link.listen_host, redis_link.listen_port)):
        client = redis.Redis(host=host, port=port, password=cache.password)
        try:
            client.ping()
            timings.append(p50_ms(client.ping, rounds))
        finally:
            client.close()
    rows.append(("app -> redis (PING)", timings[0], timings[1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=8, help="Locust users = wrk connections")
    parser.add_argument("--rounds", type=int, default=2000, help="round trips per link")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drills-bench-http-") as tmp:
        work = Path(tmp)
        runtime = LocalRuntime("bench-http", work / "logs")
        with Stack(runtime, runtime.services({
            "postgres": PostgresSettings(), "redis": RedisSettings(),
            "toxiproxy": ToxiproxySettings(), "app": AppSettings(),
        })) as stack:
            pg_store.prepare(stack["postgres"].endpoint)
            app = stack["app"].endpoint
            wrk, wrk_p50 = wrk_rate(f"http://{app.host}:{app.port}", args.users, args.seconds,
                                    work)
            with pg_store.connect(stack["postgres"].endpoint) as conn:  # Locust ids start at 1
                conn.execute(f"DELETE FROM {pg_store.TABLE} WHERE id < 1000000000000")
            locust, locust_p50 = locust_rate(stack, args.users, args.seconds, work)
            links = link_latency(stack, args.rounds)
    print(f"app request rate, {args.users} connections, {args.seconds:.0f} s each, "
          "POST /items (PostgreSQL through Toxiproxy, then the Redis cache):")
    print(f"  wrk                         {wrk:8.0f} req/s 2xx   p50 {wrk_p50:6.2f} ms")
    print(f"  drills workload (Locust)    {locust:8.0f} writes/s ok   p50 {locust_p50:6.2f} ms")
    print(f"  ratio workload / wrk        {locust / wrk:8.2f}")
    print(f"round trips through Toxiproxy, p50 of {args.rounds}, one connection:")
    for name, direct, proxied in links:
        print(f"  {name:<28} direct {direct:6.3f} ms   proxied {proxied:6.3f} ms   "
              f"added {proxied - direct:+6.3f} ms")


if __name__ == "__main__":
    main()
