"""Redis as a data store: workload keys, probe keys, read-back, identity, replication.

This module is the kind's data-store adapter (drills.datastore.DataStore), imported only
when a drill first talks to Redis: it imports redis-py.

An endpoint may name Sentinels instead of a server (``discovery`` ``sentinel:NAME``): the
writer, the probe, the read-back and the identity check then talk to the primary the
Sentinels name at that moment (drills.kinds.redis.connect).

Clients never retry: redis-py 8 retries three times by default, which would hide the
outage and inflate the measured RTO by seconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import redis
from redis.connection import Connection

from drills.datastore import NotSent, ProbeFailed, Rejected
from drills.errors import NotOurServer, StackError
from drills.kinds.redis.connect import client as client
from drills.kinds.redis.connect import no_retry, primary_address, where
from drills.kinds.redis.replication import promote as promote
from drills.kinds.redis.replication import replica_link as replica_link
from drills.kinds.redis.replication import replication as replication
from drills.stack.endpoint import Endpoint

KEY_PREFIX = "drills:w:"  # its own namespace: a team's Redis keeps its keys
#: where the read-back comes from, for the report
source = f"keys {KEY_PREFIX}*"
PROBE_PREFIX = "drills:p:"
#: set once before the load: the workload's "table". A keyspace that lost it (FLUSHALL, an
#: empty restore) does not answer correctly, even if a new key can be written
SENTINEL = "drills:keyspace"
DATASET_PREFIX = "drills:d:"
_DATASET_VALUE = 512  # bytes of each dataset value


def read_only_refusal(endpoint: Endpoint, request: str | Sequence[str]) -> str | None:
    """Why a plan's Redis check must not run: a command the server does not flag readonly.

    A check reads the team's data; it never changes it (FLUSHALL, DEL, LPUSH...).
    """
    argv = [request] if isinstance(request, str) else list(request)
    if not argv:
        return "an empty command"
    try:
        with client(endpoint, timeout_s=5) as r:
            info = r.execute_command("COMMAND", "INFO", argv[0])
    except (redis.RedisError, TypeError, IndexError):  # TypeError: redis-py on an unknown one
        return f"{argv[0]} is not a command this Redis knows"
    flags = (info or {}).get(argv[0].lower(), {}).get("flags", []) if isinstance(info, dict) \
        else []
    if "readonly" not in flags:
        return (f"{argv[0]} is not a read-only command (flags: {', '.join(flags) or 'none'}): "
                "a check only reads the team's data")
    return None


def query(endpoint: Endpoint, request: str | Sequence[str], timeout_s: float = 10.0) -> object:
    """A plan's Redis check: the answer to one command (``LLEN bull:discovery:wait``)."""
    argv = [request] if isinstance(request, str) else list(request)
    try:
        with client(endpoint, timeout_s=timeout_s) as r:
            return r.execute_command(*argv)
    except redis.RedisError as exc:
        raise StackError(f"{where(endpoint)}: {type(exc).__name__}: {exc}") from exc

def identify(endpoint: Endpoint, expect: Mapping[str, str] | None = None) -> dict[str, str]:
    """AUTH with the run's password, PING, and (if given) check the data directory."""
    try:
        with client(endpoint, timeout_s=2) as r:
            if not r.ping():
                raise StackError(f"{where(endpoint)}: PING failed")
            info: dict[str, Any] = r.info("server")
            directory = str(r.config_get("dir").get("dir", ""))
            loading = r.info("persistence").get("loading", 0)
    except redis.AuthenticationError as exc:
        raise NotOurServer(
            f"the server of {where(endpoint)} is not ours: it refused this "
            f"run's password ({exc}). Another process holds the port."
        ) from exc
    except redis.RedisError as exc:
        raise StackError(f"{where(endpoint)}: {exc}") from exc
    if loading:
        raise StackError(f"{where(endpoint)} is still loading its data")
    found = {"version": str(info.get("redis_version")), "dir": directory,
             "port": str(info.get("tcp_port"))}
    for key, value in (expect or {}).items():
        if found.get(key) != value:
            raise NotOurServer(
                f"the server of {where(endpoint)} is not ours: {key} is "
                f"{found.get(key)!r}, expected {value!r}."
            )
    return found


def writer(endpoint: Endpoint) -> RedisWriter:
    """One workload connection."""
    return RedisWriter(endpoint)


def probe(endpoint: Endpoint) -> RedisProbe:
    """The steady-state probe."""
    return RedisProbe(endpoint)


def prepare(endpoint: Endpoint) -> None:
    """Keys need no schema; set the sentinel the probe checks."""
    with client(endpoint) as r:
        r.set(SENTINEL, "written by drills before the load")


class RedisWriter:
    """One workload connection: SET w:<id> <value>.

    It connects explicitly, so that a refused connection (``fail``) is told apart from a
    lost answer (``unknown``). Through Sentinels, each new connection asks them where the
    primary is; no primary named (a failover under way) is a refused connection too. A
    server that answers READONLY (a replica, a demoted primary) refused the write, and the
    connection is dropped so that the next write asks again.
    """

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.conn: Connection | None = None

    def write(self, op_id: int, value: str) -> None:
        if self.conn is None:
            try:
                host, port = primary_address(self.endpoint)
            except redis.RedisError as exc:
                raise NotSent(f"no primary: {exc}") from exc
            conn = Connection(
                host=host, port=port,
                password=self.endpoint.password, socket_connect_timeout=2,
                socket_timeout=30, retry=no_retry(), decode_responses=True,
            )
            try:
                conn.connect()
            except redis.RedisError as exc:
                conn.disconnect()
                raise NotSent(str(exc)) from exc
            self.conn = conn
        try:
            self.conn.send_command("SET", f"{KEY_PREFIX}{op_id}", value)
            reply = self.conn.read_response()
        except redis.ReadOnlyError as exc:
            self.close()
            raise Rejected(str(exc)) from exc
        except redis.ResponseError as exc:
            raise Rejected(str(exc)) from exc
        except BaseException:
            self.close()
            raise
        if reply != "OK":
            raise Rejected(f"SET answered {reply!r}")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.disconnect()
            self.conn = None


class RedisProbe:
    """The steady-state probe: SET a key, GET it back."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.client: redis.Redis | None = None

    def attempt(self, seq: int) -> None:
        key, value = f"{PROBE_PREFIX}{seq}", f"probe-{seq}"
        try:
            if self.client is None:
                self.client = client(self.endpoint)
            self.client.set(key, value)
            pipe = self.client.pipeline(transaction=False)
            pipe.get(key)
            pipe.exists(SENTINEL)
            got, sentinel = pipe.execute()
        except redis.RedisError as exc:
            self.close()
            raise ProbeFailed(f"{type(exc).__name__}: {exc}") from exc
        if got != value:
            raise ProbeFailed(f"probe key {key} read back as {got!r}")
        if not sentinel:
            raise ProbeFailed(f"the workload's keyspace is gone: key {SENTINEL} is missing")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


def read_back(endpoint: Endpoint) -> Iterator[tuple[int, str]]:
    """Every workload key, (id, value), in SCAN order (the checker sorts them)."""
    with client(endpoint, timeout_s=30) as r:
        batch: list[str] = []
        for key in r.scan_iter(match=f"{KEY_PREFIX}*", count=2000):
            batch.append(str(key))
            if len(batch) >= 2000:
                yield from _fetch(r, batch)
                batch = []
        yield from _fetch(r, batch)


def _fetch(r: redis.Redis, keys: list[str]) -> Iterator[tuple[int, str]]:
    if not keys:
        return
    for key, value in zip(keys, r.mget(keys), strict=True):
        if value is not None:
            yield int(key[len(KEY_PREFIX):]), str(value)


def delete(endpoint: Endpoint, ids: list[int]) -> int:
    with client(endpoint) as r:
        return int(r.delete(*[f"{KEY_PREFIX}{i}" for i in ids])) if ids else 0



def load_dataset(endpoint: Endpoint, size_bytes: int) -> dict[str, int]:
    """Set about ``size_bytes`` of keys d:<n> (512-byte values), pipelined."""
    keys = max(1, size_bytes // (_DATASET_VALUE + 64))
    r = client(endpoint, timeout_s=60)
    try:
        for first in range(0, keys, 5000):
            pipe = r.pipeline(transaction=False)
            for n in range(first, min(keys, first + 5000)):
                # random hex (seeded by the key): compresses about 2:1, as real data might
                pipe.set(f"{DATASET_PREFIX}{n}",
                         random.Random(n).randbytes(_DATASET_VALUE // 2).hex())
            pipe.execute()
        used = int(r.info("memory").get("used_memory", 0))
    finally:
        r.close()
    return {"rows": keys, "bytes": used}


if TYPE_CHECKING:  # mypy checks that this module is a DataStore
    import drills.kinds.redis.store as _this
    from drills.datastore import DataStore

    _conforms: DataStore = _this
