"""A small client of Toxiproxy's REST API (https://github.com/Shopify/toxiproxy#http-api).

Ours rather than toxiproxy-python (last released in 2019): every call has a timeout, an
error names the server, the call and Toxiproxy's own message, and nothing is retried
behind the caller's back. It speaks only to a Toxiproxy drills started itself.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any

from drills.errors import StackError


@dataclass(frozen=True)
class Toxic:
    """One toxic on a proxy: its type, which way it acts, and its attributes."""

    name: str
    type: str  # latency, bandwidth, timeout, reset_peer, slow_close, ...
    attributes: dict[str, int]
    stream: str = "downstream"  # downstream: server to client; upstream: client to server
    toxicity: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "stream": self.stream,
                "toxicity": self.toxicity, "attributes": self.attributes}


class ToxiproxyApi:
    """Toxiproxy's REST API at ``host:port``, every call bounded by ``timeout_s``."""

    def __init__(self, host: str, port: int, timeout_s: float = 5.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            payload = None if body is None else json.dumps(body)
            headers = {"Content-Type": "application/json", "User-Agent": "drills"}
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise StackError(f"toxiproxy on {self.host}:{self.port}: {method} {path}: "
                             f"{type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        if response.status >= 300:
            text = raw.decode(errors="replace").strip()
            try:
                text = str(json.loads(text).get("error", text))
            except (ValueError, AttributeError):
                pass
            raise StackError(f"toxiproxy on {self.host}:{self.port}: {method} {path}: "
                             f"HTTP {response.status}: {text[:300]}")
        return json.loads(raw) if raw.strip() else None

    def version(self) -> str:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            conn.request("GET", "/version")
            response = conn.getresponse()
            text = response.read().decode(errors="replace").strip()
        except (OSError, http.client.HTTPException) as exc:
            raise StackError(f"toxiproxy on {self.host}:{self.port}: GET /version: "
                             f"{type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        if response.status != 200:
            raise StackError(f"toxiproxy on {self.host}:{self.port}: GET /version: "
                             f"HTTP {response.status}")
        try:  # 2.x answers {"version": "..."}; older servers a bare string
            return str(json.loads(text)["version"])
        except (ValueError, KeyError, TypeError):
            return text

    def proxies(self) -> dict[str, Any]:
        found = self._call("GET", "/proxies")
        return dict(found or {})

    def create_proxy(self, name: str, listen: str, upstream: str) -> dict[str, Any]:
        made = self._call("POST", "/proxies", {"name": name, "listen": listen,
                                               "upstream": upstream, "enabled": True})
        return dict(made)

    def delete_proxy(self, name: str) -> None:
        self._call("DELETE", f"/proxies/{name}")

    def set_enabled(self, name: str, enabled: bool) -> None:
        self._call("POST", f"/proxies/{name}", {"enabled": enabled})

    def add_toxic(self, proxy: str, toxic: Toxic) -> None:
        self._call("POST", f"/proxies/{proxy}/toxics", toxic.to_json())

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}")

    def toxics(self, proxy: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/proxies/{proxy}/toxics") or [])

    def reset(self) -> None:
        """Every proxy enabled again and every toxic removed."""
        self._call("POST", "/reset")
