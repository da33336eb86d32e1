"""Connections to Redis: to the server an endpoint names, or to the primary its Sentinels name.

An endpoint whose ``discovery`` is ``sentinel:NAME`` lists Sentinels (host, port and
alternates), not servers: a client asks them, in order, where the primary called NAME is,
and connects there, as an application that follows a failover does. The Sentinels take the
same password as the servers they watch (drills.kinds.sentinel).

Imported only by the kind's data-store adapter and its replication functions: it imports
redis-py. Clients never retry: redis-py 8 retries three times by default, which would hide
the outage and inflate the measured RTO by seconds.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from drills.errors import StackError, printable
from drills.kinds.redis.replica import SENTINEL_DISCOVERY
from drills.stack.endpoint import Endpoint


def no_retry() -> Retry:
    return Retry(NoBackoff(), 0)


def master_name(endpoint: Endpoint) -> str | None:
    """The primary's name at the endpoint's Sentinels; None: the endpoint is the server."""
    how = endpoint.discovery
    if how is None:
        return None
    if how.startswith(SENTINEL_DISCOVERY) and len(how) > len(SENTINEL_DISCOVERY):
        return how[len(SENTINEL_DISCOVERY):]
    raise StackError(f"redis endpoint discovery {printable(repr(how))}: Redis clients find "
                     "their server through Sentinels only: use 'sentinel:NAME'")


def where(endpoint: Endpoint) -> str:
    """The endpoint for people: the server, or the Sentinels and the name asked of them."""
    name = master_name(endpoint)
    listed = ",".join(f"{h}:{p}" for h, p in endpoint.addresses())
    return f"redis {name!r} via sentinels {listed}" if name else f"redis on {listed}"


class _SentinelClient(redis.Redis):
    """A client of the primary the Sentinels name, which closes its Sentinel clients too."""

    sentinels: Sentinel | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.sentinels is not None:
                self.sentinels.close()
                self.sentinels = None


def sentinels(endpoint: Endpoint, timeout_s: float = 2.0) -> Sentinel:
    """The endpoint's Sentinels, asked in order (the caller closes it)."""
    return Sentinel(endpoint.addresses(), sentinel_kwargs={
        "password": endpoint.password or None, "socket_connect_timeout": min(2.0, timeout_s),
        "socket_timeout": timeout_s, "retry": no_retry(), "decode_responses": True})


def primary_address(endpoint: Endpoint, timeout_s: float = 2.0) -> tuple[str, int]:
    """(host, port) of the server to write to: asked of the Sentinels, or the endpoint's own.

    Raises redis.sentinel.MasterNotFoundError (a redis.ConnectionError) when no Sentinel
    names a primary it sees up, as during a failover.
    """
    name = master_name(endpoint)
    if name is None:
        return endpoint.host, endpoint.port
    asked = sentinels(endpoint, timeout_s)
    try:
        host, port = asked.discover_master(name)
    finally:
        asked.close()
    return str(host), int(port)


def client(endpoint: Endpoint, timeout_s: float = 5.0) -> redis.Redis:
    """A client of the endpoint's server, or of the primary its Sentinels name.

    Through Sentinels, every new connection asks them again, and a server that answers
    READONLY (a demoted primary) is dropped, so the next command finds the new primary.
    """
    options: dict[str, Any] = {
        "password": endpoint.password, "socket_connect_timeout": 2,
        "socket_timeout": timeout_s, "retry": no_retry(), "decode_responses": True}
    name = master_name(endpoint)
    if name is None:
        return redis.Redis(host=endpoint.host, port=endpoint.port, **options)
    asked = sentinels(endpoint, min(timeout_s, 5.0))
    made: _SentinelClient = asked.master_for(name, redis_class=_SentinelClient, **options)
    made.sentinels = asked
    return made
