"""One bounded HTTP request to a server's JSON API (etcd, Patroni, HAProxy's stats).

Every call has a timeout and never retries; a failure names the server, the call and
what went wrong, as a StackError. A non-2xx answer is not an error here: Patroni's
health endpoints answer 503 on purpose, so the caller reads the status.
"""

from __future__ import annotations

import base64
import http.client
import json
from dataclasses import dataclass
from typing import Any

from drills.errors import StackError


@dataclass(frozen=True)
class Answer:
    """What the server answered: its status and its body (parsed when it is JSON)."""

    status: int
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


def request(host: str, port: int, method: str, path: str, body: Any = None, *,
            timeout_s: float = 2.0, auth: tuple[str, str] | None = None,
            what: str = "server") -> Answer:
    """``method path`` on ``host:port``, JSON in; StackError when no answer came."""
    headers = {"User-Agent": "drills", "Accept": "application/json"}
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read(1 << 20)
    except (OSError, http.client.HTTPException) as exc:
        raise StackError(f"{what} on {host}:{port}: {method} {path}: "
                         f"{type(exc).__name__}: {exc}".strip()) from exc
    finally:
        conn.close()
    return Answer(response.status, raw.decode(errors="replace"))
