# ruff: noqa: E402  (the import order below is the point: gevent must patch first)
"""The Locust child process: write users that record every op to the history file.

Run as ``python -m drills.workload.locust_child SPEC.json``; the endpoint (with its
password) comes in the DRILLS_ENDPOINT environment variable, never in argv. Prints one
JSON line of cumulative counts on stdout every ``stats_interval_s``; SIGTERM stops it.
"""

import sys  # isort: skip

# Locust must be imported before any database driver: it monkey-patches the standard
# library for gevent, and a driver imported earlier keeps a blocking wait that serialises
# every user's writes. The kinds registry comes first only to name every driver (it
# imports none), so that the guard below can refuse an early one.
from drills import kinds  # isort: skip

_EARLY = sorted(kinds.driver_modules() & sys.modules.keys())
if _EARLY:
    raise SystemExit(f"drills workload: {', '.join(_EARLY)} imported before gevent patching; "
                     "keep driver imports out of drills/__init__.py and the kind packages")
from locust import FastHttpUser, User, constant, constant_throughput, events, task  # isort: skip
from locust.env import Environment  # isort: skip

import itertools
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event as GEvent

from drills.datastore import NotSent, Rejected, Writer, store_for
from drills.history import HistoryWriter, Outcome
from drills.stack.endpoint import Endpoint
from drills.stack.process import die_with_parent
from drills.workload.http_outcome import ATTEMPTED_HEADER, classify

_FAIL_PAUSE_S = 0.01  # after a refused connection, so a down server is not hammered



def main(spec_path: str) -> int:
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text())
    endpoint = Endpoint.from_env(os.environ["DRILLS_ENDPOINT"])
    history = HistoryWriter(Path(spec["history"]))
    ids = itertools.count(1)
    counts = {o: 0 for o in Outcome}
    users, rate = int(spec["users"]), float(spec["rate"])

    def record(op_id: int, t0: float, outcome: Outcome, error: BaseException | str | None,
               request_type: str | None) -> None:
        """Complete an op in the history, and in Locust's statistics for a ``request_type``.

        (FastHttpUser's client counts its requests in the statistics itself.)
        """
        t1 = time.monotonic()
        text = error if isinstance(error, str) or error is None else \
            f"{type(error).__name__}: {error}"
        history.complete(op_id, outcome, t1, time.time(), text)
        counts[outcome] += 1
        if request_type is None:
            return
        events.request.fire(
            request_type=request_type, name="write", response_time=(t1 - t0) * 1000,
            response_length=0, exception=None if outcome == Outcome.OK else Exception(text),
            context={},
        )

    def invoke() -> tuple[int, str, float]:
        op_id, value = next(ids), os.urandom(8).hex()
        t0 = time.monotonic()
        history.invoke(op_id, "write", value, t0, time.time())
        return op_id, value, t0

    class StoreUser(User):
        """Writes straight into a data store through its kind's writer."""

        wait_time = constant_throughput(rate / users) if rate > 0 else constant(0)

        def on_start(self) -> None:
            self.writer: Writer = store_for(endpoint.kind).writer(endpoint)

        def on_stop(self) -> None:
            self.writer.close()

        @task
        def write(self) -> None:
            op_id, value, t0 = invoke()
            error: Exception | None = None
            try:
                self.writer.write(op_id, value)
                outcome = Outcome.OK
            except (NotSent, Rejected) as exc:
                outcome, error = Outcome.FAIL, exc
            except Exception as exc:  # sent, but no answer: it may have happened
                outcome, error = Outcome.UNKNOWN, exc
            record(op_id, t0, outcome, error, endpoint.kind)
            if outcome == Outcome.FAIL:
                gevent.sleep(_FAIL_PAUSE_S)

    class HttpUser(FastHttpUser):
        """Writes through the app's HTTP API: POST /items, one keep-alive connection each.

        POST: its client never resends it on a new connection after a send error (it does
        resend an idempotent PUT), so a refused connection proves nothing was sent.
        """

        wait_time = constant_throughput(rate / users) if rate > 0 else constant(0)
        host = f"http://{endpoint.host}:{endpoint.port}"
        network_timeout = float(spec.get("http_timeout_s", 10.0))
        connection_timeout = float(spec.get("http_connect_timeout_s", 2.0))
        max_retries = 0  # a retry would hide a write in doubt behind a second attempt
        concurrency = 1

        @task
        def write(self) -> None:
            op_id, value, t0 = invoke()
            response = self.client.request("POST", "/items", json={"id": op_id, "value": value},
                                           name="POST /items")
            status = int(response.status_code or 0)
            error = getattr(response, "error", None)
            attempted = response.headers.get(ATTEMPTED_HEADER) if response.headers else None
            outcome = classify(status, attempted if isinstance(attempted, str) else None, error)
            why: BaseException | str | None = None
            if outcome != Outcome.OK:
                why = error if status == 0 and error is not None else \
                    f"HTTP {status}: {(response.text or '')[:200]}"
            record(op_id, t0, outcome, why, None)
            if outcome == Outcome.FAIL:
                gevent.sleep(_FAIL_PAUSE_S)

    user = HttpUser if kinds.get(endpoint.kind).serves_http else StoreUser
    env = Environment(user_classes=[user], events=events, stop_timeout=5)
    runner = env.create_local_runner()

    def report(final: bool = False) -> None:
        stats = env.stats.total
        line = {
            "t": time.monotonic(), **{str(o): n for o, n in counts.items()},
            "p99_ms": stats.get_response_time_percentile(0.99) or 0,
            "users": runner.user_count, "final": final,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()

    def reporter() -> None:
        while True:
            gevent.sleep(float(spec["stats_interval_s"]))
            report()

    stopping = GEvent()
    gevent.signal_handler(signal.SIGTERM, stopping.set)
    runner.start(users, spawn_rate=users)  # all users start within a second
    ticker = gevent.spawn(reporter)
    stopping.wait()
    runner.quit()
    ticker.kill()
    history.close()
    report(final=True)
    return 0


if __name__ == "__main__":
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the drill's to handle
    sys.exit(main(sys.argv[1]))
