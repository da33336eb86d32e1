"""drills' Locust users: each write recorded in the op history as it is invoked and answered.

Imported only by drills.workload.locust_child, after Locust has patched the process for
gevent. ``Recorder`` numbers the writes (ids from the load generator's own range, so that
several generators never share one), appends them to its history file, and counts them
by outcome; ``user_class`` gives the user that writes to a kind's data store or through
the app's HTTP API.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from typing import Any

import gevent
from locust import FastHttpUser, User, constant_throughput, events, task

from drills import kinds
from drills.datastore import NotSent, Rejected, Writer, store_for
from drills.record.history import HistoryWriter, Outcome
from drills.stack.endpoint import Endpoint
from drills.workload.http_outcome import ATTEMPTED_HEADER, classify
from drills.workload.ids import first_id

_FAIL_PAUSE_S = 0.01  # after a refused connection, so a down server is not hammered


class Recorder:
    """The op history of one load generator, and its counts by outcome."""

    def __init__(self, history: HistoryWriter, worker: int = 0) -> None:
        self.history = history
        self.ids = itertools.count(first_id(worker))
        self.counts = {o: 0 for o in Outcome}

    def invoke(self) -> tuple[int, str, float]:
        op_id, value = next(self.ids), os.urandom(8).hex()
        t0 = time.monotonic()
        self.history.invoke(op_id, "write", value, t0, time.time())
        return op_id, value, t0

    def record(self, op_id: int, t0: float, outcome: Outcome,
               error: BaseException | str | None, request_type: str | None) -> None:
        """Complete an op in the history, and in Locust's statistics for a ``request_type``.

        (FastHttpUser's client counts its requests in the statistics itself.)
        """
        t1 = time.monotonic()
        text = error if isinstance(error, str) or error is None else \
            f"{type(error).__name__}: {error}"
        self.history.complete(op_id, outcome, t1, time.time(), text)
        self.counts[outcome] += 1
        if request_type is None:
            return
        events.request.fire(
            request_type=request_type, name="write", response_time=(t1 - t0) * 1000,
            response_length=0, exception=None if outcome == Outcome.OK else Exception(text),
            context={},
        )

    def counts_dict(self) -> dict[str, int]:
        return {str(o): n for o, n in self.counts.items()}


def _pacing(spec: Callable[[], dict[str, Any]]) -> Callable[[Any], float]:
    """Each user's wait: its share of the plan's rate.

    The rate is read when the user runs: a worker learns it from the master once started.
    """
    def wait_time(user: Any) -> float:
        current = spec()
        rate, users = float(current.get("rate", 0)), int(current.get("users", 1))
        return constant_throughput(rate / users)(user) if rate > 0 else 0.0
    return wait_time


def user_class(endpoint: Endpoint, spec: Callable[[], dict[str, Any]],
               recorder: Callable[[], Recorder]) -> type[User]:
    """The Locust user that writes to ``endpoint``, recording into ``recorder()``."""

    class StoreUser(User):
        """Writes straight into a data store through its kind's writer."""

        wait_time = _pacing(spec)

        def on_start(self) -> None:
            self.writer: Writer = store_for(endpoint.kind).writer(endpoint)

        def on_stop(self) -> None:
            self.writer.close()

        @task
        def write(self) -> None:
            ledger = recorder()
            op_id, value, t0 = ledger.invoke()
            error: Exception | None = None
            try:
                self.writer.write(op_id, value)
                outcome = Outcome.OK
            except (NotSent, Rejected) as exc:
                outcome, error = Outcome.FAIL, exc
            except Exception as exc:  # sent, but no answer: it may have happened
                outcome, error = Outcome.UNKNOWN, exc
            ledger.record(op_id, t0, outcome, error, endpoint.kind)
            if outcome == Outcome.FAIL:
                gevent.sleep(_FAIL_PAUSE_S)

    class HttpUser(FastHttpUser):
        """Writes through the app's HTTP API: POST /items, one keep-alive connection each.

        POST: its client never resends it on a new connection after a send error (it does
        resend an idempotent PUT), so a refused connection proves nothing was sent.
        """

        wait_time = _pacing(spec)
        host = f"http://{endpoint.host}:{endpoint.port}"
        network_timeout = float(spec().get("http_timeout_s", 10.0))
        connection_timeout = float(spec().get("http_connect_timeout_s", 2.0))
        max_retries = 0  # a retry would hide a write in doubt behind a second attempt
        concurrency = 1

        @task
        def write(self) -> None:
            ledger = recorder()
            op_id, value, t0 = ledger.invoke()
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
            ledger.record(op_id, t0, outcome, why, None)
            if outcome == Outcome.FAIL:
                gevent.sleep(_FAIL_PAUSE_S)

    return HttpUser if kinds.get(endpoint.kind).serves_http else StoreUser
