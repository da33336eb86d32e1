"""Several load generators: Locust's master and its workers, each keeping its own op history.

Imported only by drills.workload.locust_child, after Locust has patched the process.

The master runs no users. When a worker connects, the master sends it the load's
settings and its number n (from Locust's worker index, so unique across the drill); the
worker writes its op history to ``history-w<n>.bin`` with ids from n * 10^9 + 1, so no two
workers share an id. Workers send their counts every stats interval; the master prints
their sum as the single load generator does. At the end the master stops the users, then
asks each worker to finish: a worker closes its history and, when it runs on another host
(``--send-back``), sends the file (and its error texts) to the master in chunks, which
writes it beside the drill's journal; then it says it is done. A worker that never says
so leaves the master's exit code at 3: the drill then cannot trust its loss figures.

Messages (Locust custom messages): master to worker ``drills_spec``, ``drills_finish``;
worker to master ``drills_counts``, ``drills_ledger``, ``drills_done``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event as GEvent
from locust import events
from locust.env import Environment

from drills.record.history import HistoryWriter
from drills.record.history.format import errors_path
from drills.stack.endpoint import Endpoint
from drills.workload.users import Recorder, user_class

CHUNK_BYTES = 1 << 20
JOIN_TIMEOUT_S = 120.0  # how long the master waits for every worker to connect
FINISH_TIMEOUT_S = 300.0  # how long it waits for the workers' histories at the end
SILENT_S = 15.0  # a worker that sent nothing for this long is gone
EXIT_WORKER_LOST = 3


def _log(text: str) -> None:
    sys.stderr.write(f"drills workload: {text}\n")
    sys.stderr.flush()


def run_master(spec: dict[str, Any], endpoint: Endpoint, stopping: GEvent,
               report: Callable[[dict[str, Any]], None]) -> int:
    """Coordinate the workers until ``stopping`` is set; returns the exit code."""
    user = user_class(endpoint, lambda: spec, _no_recorder)
    env = Environment(user_classes=[user], events=events, stop_timeout=5)
    host, _, port = str(spec["master"]).rpartition(":")
    runner = env.create_master_runner(host, int(port))
    expected = int(spec["workers"]) + int(spec["remote_workers"])
    history_dir = Path(spec["history_dir"])
    counts: dict[int, dict[str, int]] = {}
    done: dict[int, dict[str, int]] = {}
    heard: dict[int, float] = {}  # worker -> when it last sent anything
    ledgers: dict[str, Any] = {}

    joined: dict[str, int] = {}  # client id -> worker number

    def on_connect(client_id: str, **_: Any) -> None:
        if client_id not in joined:
            joined[client_id] = runner.get_worker_index(client_id) + 1
            heard[joined[client_id]] = time.monotonic()
            _log(f"worker {joined[client_id]} joined ({client_id})")

    def on_counts(environment: Any, msg: Any, **_: Any) -> None:
        counts[int(msg.data["worker"])] = dict(msg.data["counts"])
        heard[int(msg.data["worker"])] = time.monotonic()

    def on_ledger(environment: Any, msg: Any, **_: Any) -> None:
        worker = int(msg.data.get("worker", 0))
        name = str(msg.data["name"])
        # only the worker's own history, by the name its number gives: never a path of its
        # choosing, never another worker's file
        if worker not in joined.values() or name not in (f"history-w{worker}.bin",
                                                           f"history-w{worker}.bin.errors"):
            _log(f"refused a ledger file named {name!r} from worker {worker}")
            return
        heard[worker] = time.monotonic()
        out = ledgers.get(name)
        if out is None:
            out = ledgers[name] = open(history_dir / name, "wb")  # noqa: SIM115 - kept open
        out.seek(int(msg.data["offset"]))
        out.write(msg.data["data"])
        if msg.data["last"]:
            out.close()
            ledgers.pop(name)

    def on_done(environment: Any, msg: Any, **_: Any) -> None:
        worker = int(msg.data["worker"])
        done[worker] = counts[worker] = dict(msg.data["counts"])
        _log(f"worker {worker} finished: {done[worker]}")

    events.worker_connect.add_listener(on_connect)
    runner.register_message("drills_counts", on_counts)
    runner.register_message("drills_ledger", on_ledger)
    runner.register_message("drills_done", on_done)
    _log(f"master listening on {host}:{port}, waiting for {expected} workers")
    deadline = time.monotonic() + float(spec.get("join_timeout_s", JOIN_TIMEOUT_S))
    while len(runner.clients.ready) < expected:
        if stopping.is_set() or time.monotonic() > deadline:
            _log(f"only {len(runner.clients.ready)} of {expected} workers joined; start the "
                 f"others with `drill worker --master <this host>:{port}`")
            runner.quit()
            return EXIT_WORKER_LOST
        gevent.sleep(0.1)
    # the settings go out once every worker is in (a message sent as a worker connects
    # can arrive before it listens for it), and before any user is spawned
    settings = {k: spec[k] for k in ("users", "rate", "stats_interval_s")}
    for client_id, worker in joined.items():
        runner.send_message("drills_spec", {**settings, "worker": worker}, client_id)
    users = int(spec["users"])
    runner.start(users, spawn_rate=users)

    def totals(final: bool = False) -> dict[str, Any]:
        summed = {k: sum(c.get(k, 0) for c in counts.values()) for k in ("ok", "fail", "unknown")}
        return {"t": time.monotonic(), **summed,
                "p99_ms": env.stats.total.get_response_time_percentile(0.99) or 0,
                "users": runner.user_count, "workers": len(counts), "final": final}

    def ticker() -> None:
        while True:
            gevent.sleep(float(spec["stats_interval_s"]))
            report(totals())

    tick = gevent.spawn(ticker)
    stopping.wait()
    tick.kill()
    runner.stop()
    workers = set(joined.values())
    for client_id in joined:  # to each by name: a stopped worker may be out of the roster
        runner.send_message("drills_finish", {}, client_id)
    deadline = time.monotonic() + FINISH_TIMEOUT_S
    while not workers <= done.keys() and time.monotonic() < deadline:
        now = time.monotonic()
        if all(now - heard.get(w, 0.0) > SILENT_S for w in workers - done.keys()):
            break  # the ones left have gone quiet: they are not coming back
        gevent.sleep(0.2)
    missing = sorted(workers - done.keys())
    for out in ledgers.values():
        out.close()
    runner.quit()
    report(totals(final=True))
    if missing or len(workers) < expected:
        _log(f"workers {missing or 'that left'} did not hand in their histories: "
             "their writes cannot be checked")
        return EXIT_WORKER_LOST
    return 0


def _no_recorder() -> Recorder:
    raise RuntimeError("the master runs no users")


def run_worker(endpoint: Endpoint, master_host: str, master_port: int, ledger_dir: Path,
               send_back: bool) -> int:
    """Run users for the master until it says finish (or quits); returns the exit code."""
    spec: dict[str, Any] = {}
    holder: list[Recorder] = []
    finished = GEvent()
    user = user_class(endpoint, lambda: spec, lambda: holder[0])
    env = Environment(user_classes=[user], events=events, stop_timeout=5)
    runner = env.create_worker_runner(master_host, master_port)

    def on_spec(environment: Any, msg: Any, **_: Any) -> None:
        if holder:
            return  # settings come once
        spec.update(msg.data)
        worker = int(spec["worker"])
        ledger_dir.mkdir(parents=True, exist_ok=True)
        holder.append(Recorder(HistoryWriter(ledger_dir / f"history-w{worker}.bin", worker),
                               worker))
        gevent.spawn(send_counts)

    def send_counts() -> None:
        while not finished.is_set():
            gevent.sleep(float(spec.get("stats_interval_s", 1.0)))
            if holder and not finished.is_set():
                runner.send_message("drills_counts", {"worker": spec["worker"],
                                                      "counts": holder[0].counts_dict()})

    def on_finish(environment: Any, msg: Any, **_: Any) -> None:
        runner.stop()
        if holder:
            recorder = holder[0]
            recorder.history.close()
            if send_back:
                for path in (recorder.history.path, errors_path(recorder.history.path)):
                    if path.exists():
                        _send_file(runner, path, int(spec["worker"]))
            runner.send_message("drills_done", {"worker": spec["worker"],
                                                "counts": recorder.counts_dict()})
        finished.set()

    runner.register_message("drills_spec", on_spec)
    runner.register_message("drills_finish", on_finish, concurrent=True)
    def master_gone() -> None:  # the master quit (or vanished) before asking to finish
        runner.greenlet.join()
        finished.set()

    gevent.spawn(master_gone)
    finished.wait()
    gevent.sleep(0.5)  # let the last messages leave
    return 0


def _send_file(runner: Any, path: Path, worker: int) -> None:
    """Send a history file to the master in chunks (a worker on another host)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        offset = 0
        while True:
            data = f.read(CHUNK_BYTES)
            last = offset + len(data) >= size
            runner.send_message("drills_ledger", {"worker": worker, "name": path.name,
                                                  "offset": offset, "data": data,
                                                  "last": last})
            offset += len(data)
            if last:
                break
            gevent.sleep(0)  # let heartbeats through
    _log(f"sent {path.name} ({size} bytes) to the master")
