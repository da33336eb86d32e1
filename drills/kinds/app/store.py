"""The reference app as the drill sees it: an HTTP API probed through its own endpoints.

The workload writes through Locust's FastHttpUser (drills.workload.locust_child), not a
writer of this module. The app keeps its items in PostgreSQL, so its writes are read back
from there (``drill.load(app, store=postgres)``): the RPO counts what the system of record
holds, not what the app says. The probe writes ids below zero, which the read-back of the
workload's table leaves out.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from drills.datastore import ProbeFailed
from drills.errors import NotOurServer, StackError
from drills.stack.endpoint import Endpoint

#: where the read-back comes from, for the report
source = "the app's database (read back from it directly)"
_TIMEOUT_S = 5.0  # the app answers within its own deadline (2 s) or not at all


def _request(conn: http.client.HTTPConnection, method: str, path: str,
             body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    payload = None if body is None else json.dumps(body)
    conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    raw = response.read()
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {"raw": raw[:200].decode(errors="replace")}
    return response.status, parsed if isinstance(parsed, dict) else {"body": parsed}


def identify(endpoint: Endpoint, expect: Mapping[str, str] | None = None) -> dict[str, str]:
    """The app answers its health check with its database up, and is the drill's own."""
    conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=_TIMEOUT_S)
    try:
        status, body = _request(conn, "GET", "/health")
    except (OSError, http.client.HTTPException) as exc:
        raise StackError(f"app on {endpoint.host}:{endpoint.port}: {exc}") from exc
    finally:
        conn.close()
    wanted = (expect or {}).get("instance")
    if wanted is not None and body.get("instance") != wanted:
        raise NotOurServer(f"the server on {endpoint.host}:{endpoint.port} is not our app: its "
                           f"health check names instance {body.get('instance')!r}. Another "
                           "process holds the port.")
    if status != 200:
        raise StackError(f"app on {endpoint.host}:{endpoint.port}: health {status}: {body}")
    return {"status": str(body.get("status")), "instance": str(body.get("instance")),
            "version": str(body.get("version", "unknown"))}


def prepare(endpoint: Endpoint) -> None:
    """Nothing to create: the app's table is its database's (prepared as that store)."""


def writer(endpoint: Endpoint) -> Any:
    raise StackError("the app is loaded over HTTP by Locust's FastHttpUser, not by a writer")


def probe(endpoint: Endpoint) -> AppProbe:
    return AppProbe(endpoint)


class AppProbe:
    """The steady-state probe at the app: POST an item, GET it back, through the app."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.conn: http.client.HTTPConnection | None = None

    def attempt(self, seq: int) -> None:
        item, value = -seq, f"probe-{seq}-{os.urandom(4).hex()}"
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.endpoint.host, self.endpoint.port,
                                                   timeout=_TIMEOUT_S)
        try:
            status, body = _request(self.conn, "POST", "/items", {"id": item, "value": value})
            if status not in (200, 201):
                raise ProbeFailed(f"POST /items {item}: {status} {body.get('error', body)}")
            status, body = _request(self.conn, "GET", f"/items/{item}")
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ProbeFailed(f"{type(exc).__name__}: {exc}") from exc
        if status != 200 or body.get("value") != value:
            raise ProbeFailed(f"GET /items/{item}: {status} {body}")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def read_back(endpoint: Endpoint) -> Iterator[tuple[int, str]]:
    raise StackError("the app keeps its items in its database: read them back from there "
                     "(drill.load(app, store=<its database service>))")


def delete(endpoint: Endpoint, ids: list[int]) -> int:
    raise StackError("the app offers no delete; delete in its database instead")


def load_dataset(endpoint: Endpoint, size_bytes: int) -> dict[str, int]:
    raise StackError("load a dataset into the app's database instead")


if TYPE_CHECKING:  # mypy checks that this module is a DataStore
    import drills.kinds.app.store as _this
    from drills.datastore import DataStore

    _conforms: DataStore = _this
