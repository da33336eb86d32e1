"""Redis replication as one server reports it (``INFO replication``), and promoting a replica.

Part of the kind's data-store adapter (re-exported by drills.kinds.redis.store), imported
only with it: it imports redis-py. Positions are replication offsets, bytes of the
primary's replication stream, so a replica's lag in bytes is the primary's offset minus
the replica's.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from drills.errors import StackError
from drills.kinds.redis.connect import client, where
from drills.replication.state import Downstream, ReplicationState
from drills.stack.endpoint import Endpoint


def _info(endpoint: Endpoint, timeout_s: float) -> dict[str, Any]:
    try:
        with client(endpoint, timeout_s=timeout_s) as r:
            found: dict[str, Any] = r.info("replication")
            return found
    except redis.RedisError as exc:
        raise StackError(f"{where(endpoint)}: {type(exc).__name__}: {exc}") from exc


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def state_of(info: dict[str, Any]) -> ReplicationState:
    """A ReplicationState from the fields of ``INFO replication`` (as redis-py parses them)."""
    epoch = str(info["master_replid"]) if info.get("master_replid") else None
    if info.get("role") == "master":
        offset = _int(info.get("master_repl_offset"))
        downstream = []
        for n in range(_int(info.get("connected_slaves")) or 0):
            slave = info.get(f"slave{n}")
            if not isinstance(slave, dict):
                continue
            acked = _int(slave.get("offset"))
            downstream.append(Downstream(
                name=f"{slave.get('ip')}:{slave.get('port')}", state=str(slave.get("state")),
                lag_bytes=None if offset is None or acked is None else offset - acked))
        return ReplicationState(role="primary", position=offset, downstream=tuple(downstream),
                                epoch=epoch)
    return ReplicationState(
        role="replica", position=_int(info.get("slave_repl_offset")),
        received=_int(info.get("slave_read_repl_offset")),
        streaming=info.get("master_link_status") == "up",
        upstream=f"{info.get('master_host')}:{info.get('master_port')}", epoch=epoch)


def replication(endpoint: Endpoint, timeout_s: float = 2.0) -> ReplicationState:
    """The server's role, replication offset and replicas (``INFO replication``).

    Redis tells no replay lag in seconds (a replica's ``lag`` is the age of its last
    acknowledgement), so ``lag_s`` stays unset; ``lag_bytes`` is exact.
    """
    return state_of(_info(endpoint, timeout_s))


def replica_link(endpoint: Endpoint) -> None:
    """Raise StackError unless the server is a primary or a replica whose link is up.

    A replica is ready once it streams from its primary (``master_link_status:up``): until
    then it has not loaded the primary's data. A replica promoted since is ready as is.
    """
    info = _info(endpoint, 2.0)
    if info.get("role") == "master" or info.get("master_link_status") == "up":
        return
    syncing = " (a full synchronisation is under way)" \
        if str(info.get("master_sync_in_progress")) == "1" else ""
    raise StackError(f"{where(endpoint)} is a replica of {info.get('master_host')}:"
                     f"{info.get('master_port')} whose link is {info.get('master_link_status')}"
                     f"{syncing}; check that the primary runs and that both share one "
                     "password (masterauth)")


def promote(endpoint: Endpoint, timeout_s: float = 60.0) -> str:
    """Make this replica a primary (``REPLICAOF NO ONE``); what it did.

    Returns once the server reports role master. The promotion is also written to its
    configuration file (``CONFIG REWRITE``), so that a restart does not make it a replica
    again; the answer says when that failed. A server that is already a primary is
    refused: promoting it would prove nothing.
    """
    deadline = time.monotonic() + timeout_s
    try:
        with client(endpoint, timeout_s=min(timeout_s, 10.0)) as r:
            before: dict[str, Any] = r.info("replication")
            if before.get("role") == "master":
                raise StackError(f"{where(endpoint)} is already a primary: there is nothing "
                                 "to promote")
            upstream = f"{before.get('master_host')}:{before.get('master_port')}"
            r.execute_command("REPLICAOF", "NO", "ONE")
            while True:
                after: dict[str, Any] = r.info("replication")
                if after.get("role") == "master":
                    break
                if time.monotonic() > deadline:
                    raise StackError(f"{where(endpoint)}: still role {after.get('role')} "
                                     f"{timeout_s:.0f} s after REPLICAOF NO ONE")
                time.sleep(0.01)
            try:
                r.config_rewrite()
                kept = "written to its configuration file (CONFIG REWRITE)"
            except redis.ResponseError as exc:
                kept = f"not written to its configuration file (CONFIG REWRITE: {exc}): a " \
                       "restart makes it a replica again"
    except redis.RedisError as exc:
        raise StackError(f"{where(endpoint)}: {type(exc).__name__}: {exc}") from exc
    return (f"REPLICAOF NO ONE: the replica stopped following {upstream} and accepts writes "
            f"(replication id {after.get('master_replid')}, offset "
            f"{after.get('master_repl_offset')}); {kept}")
