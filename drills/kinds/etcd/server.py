"""An etcd server as drills sees it: its HTTP API (v3 JSON gateway) and its identity.

The identity is proven by the member list: one member, named after the service, whose
peer URL holds the port this run picked. A stray etcd on the same client port has
another name or peer URL (NotOurServer).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from drills.errors import NotOurServer, StackError
from drills.stack.http_json import request
from drills.stack.service import Service


def command(name: str, data_dir: str, client_url: str, peer_url: str, token: str) -> list[str]:
    """The etcd command line of a one-member cluster (same on every runtime)."""
    return [
        "etcd", "--name", name, "--data-dir", data_dir,
        "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
        "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
        "--initial-cluster", f"{name}={peer_url}", "--initial-cluster-token", token,
        "--initial-cluster-state", "new", "--logger", "zap", "--log-outputs", "stderr",
    ]


def read_keys(host: str, port: int, key: str, *, prefix: bool = False,
              timeout_s: float = 2.0) -> dict[str, str]:
    """``key`` (or every key under it, with ``prefix``) -> value, from the v3 JSON gateway.

    StackError when etcd does not answer: the caller tells "no such key" (an empty answer)
    from "no etcd".
    """
    body = {"key": _b64(key)}
    if prefix:  # the range [key, key with its last byte + 1)
        raw = key.encode()
        body["range_end"] = base64.b64encode(raw[:-1] + bytes([raw[-1] + 1])).decode()
    answer = request(host, port, "POST", "/v3/kv/range", body, timeout_s=timeout_s,
                     what="etcd")
    found = answer.json()
    if answer.status != 200 or not isinstance(found, dict):
        raise StackError(f"etcd on {host}:{port}: POST /v3/kv/range {key}: HTTP "
                         f"{answer.status}: {answer.text.strip()[:300]}")
    return {base64.b64decode(kv.get("key", "")).decode(errors="replace"):
            base64.b64decode(kv.get("value", "")).decode(errors="replace")
            for kv in found.get("kvs") or []}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class EtcdServer(Service):
    """An etcd service of the stack: what Patroni members and drills ask it."""

    #: what identify() must find: ``name`` and ``peer_url`` of the one member
    expect: Mapping[str, str]

    def _call(self, method: str, path: str, body: Any = None,
              timeout_s: float = 2.0) -> Any:
        answer = request(self.endpoint.host, self.endpoint.port, method, path, body,
                         timeout_s=timeout_s, what=f"etcd {self.name}")
        found = answer.json()
        if answer.status != 200 or found is None:
            raise StackError(f"etcd {self.name}: {method} {path}: HTTP {answer.status}: "
                             f"{answer.text.strip()[:300]}")
        return found

    def version(self) -> str:
        return str(self._call("GET", "/version").get("etcdserver", "unknown"))

    def get(self, key: str, timeout_s: float = 2.0) -> str | None:
        """The value of ``key`` (None when absent)."""
        found = read_keys(self.endpoint.host, self.endpoint.port, key, timeout_s=timeout_s)
        return found.get(key)

    def identify(self) -> dict[str, str]:
        listed = self._call("POST", "/v3/cluster/member/list", {})
        members = listed.get("members") or []
        names = [str(m.get("name", "")) for m in members]
        ours = [m for m in members if m.get("name") == self.expect["name"]
                and self.expect["peer_url"] in (m.get("peerURLs") or [])]
        if len(members) != 1 or not ours:
            raise NotOurServer(
                f"the etcd on {self.endpoint.host}:{self.endpoint.port} is not ours: its "
                f"members are {names or 'none'}, expected one named {self.expect['name']!r} "
                f"with peer URL {self.expect['peer_url']}. Another process holds the port.")
        cluster = str((listed.get("header") or {}).get("cluster_id", ""))
        return {"name": self.expect["name"], "version": self.version(), "cluster_id": cluster}
