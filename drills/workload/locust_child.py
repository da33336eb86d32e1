# ruff: noqa: E402  (the import order below is the point: gevent must patch first)
"""The Locust child process: write users that record every op to the history file.

Three ways to run it, all with the endpoint (and its password) as one line of JSON on
standard input, never in argv nor in the environment (/proc/PID/environ is readable by
every process of the user):

- ``python -m drills.workload.locust_child SPEC.json``: one process runs every user;
- ``... --master SPEC.json``: Locust's master for distributed load (drills.workload.
  distributed), started by the drill;
- ``... --worker --master-host H --master-port P --ledger DIR [--send-back]``: one of its
  workers, started by the drill on its host or by ``drill worker`` on another.

The single process and the master print one JSON line of cumulative counts on stdout
every ``stats_interval_s``; SIGTERM stops them.
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
from locust import events  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event as GEvent

from drills.record.history import HistoryWriter
from drills.stack.endpoint import Endpoint
from drills.stack.process import die_with_parent
from drills.workload import distributed
from drills.workload.users import Recorder, user_class


def _report(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _stopping() -> GEvent:
    stopping = GEvent()
    gevent.signal_handler(signal.SIGTERM, stopping.set)
    return stopping


def run_single(spec: dict[str, Any], endpoint: Endpoint) -> int:
    """Every user in this process, writing the one history file."""
    recorder = Recorder(HistoryWriter(Path(spec["history"])))
    users = int(spec["users"])
    env = Environment(user_classes=[user_class(endpoint, lambda: spec, lambda: recorder)],
                      events=events, stop_timeout=5)
    runner = env.create_local_runner()

    def report(final: bool = False) -> None:
        _report({"t": time.monotonic(), **recorder.counts_dict(),
                 "p99_ms": env.stats.total.get_response_time_percentile(0.99) or 0,
                 "users": runner.user_count, "final": final})

    def reporter() -> None:
        while True:
            gevent.sleep(float(spec["stats_interval_s"]))
            report()

    stopping = _stopping()
    runner.start(users, spawn_rate=users)  # all users start within a second
    ticker = gevent.spawn(reporter)
    stopping.wait()
    runner.quit()
    ticker.kill()
    recorder.history.close()
    report(final=True)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m drills.workload.locust_child")
    parser.add_argument("spec", nargs="?", help="the load's settings (JSON), from the drill")
    parser.add_argument("--master", action="store_true", help="run Locust's master")
    parser.add_argument("--worker", action="store_true", help="run a Locust worker")
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--ledger", help="where a worker writes its op history")
    parser.add_argument("--send-back", action="store_true",
                        help="send the history to the master at the end (another host)")
    args = parser.parse_args(argv)
    # from standard input (the drill writes it there and closes it): never from the
    # environment, which any process of the user can read in /proc
    raw = os.environ.pop("DRILLS_ENDPOINT", None) or sys.stdin.readline().strip()
    if not raw:
        raise SystemExit("drills workload: no endpoint on standard input: the data store "
                         "to write to, as one line of JSON (see `drill worker --help`)")
    endpoint = Endpoint.from_env(raw)
    if args.worker:
        return distributed.run_worker(endpoint, args.master_host, args.master_port,
                                      Path(args.ledger or "."), args.send_back)
    if not args.spec:
        raise SystemExit("drills workload: give the load's settings (SPEC.json)")
    spec: dict[str, Any] = json.loads(Path(args.spec).read_text())
    if args.master:
        return distributed.run_master(spec, endpoint, _stopping(), _report)
    return run_single(spec, endpoint)


if __name__ == "__main__":
    if "--send-back" not in sys.argv:  # started by the drill: it ends with the drill, and
        die_with_parent()  # Ctrl-C is the drill's to handle
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(main(sys.argv[1:]))
