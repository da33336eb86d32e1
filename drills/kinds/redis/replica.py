"""A Redis replica in a stack: the primary it follows, one of the services listed before it.

Every member of a replicated service shares one password, so that its clients can follow a
failover to whichever member is primary: a replica takes its primary's. ``masterauth`` is
that same password and goes into every member's configuration, the primary's included,
so that a former primary Sentinel turns into a replica can authenticate to the new one.

Clients find the primary of such a group by asking its Sentinels: an endpoint whose
``discovery`` is ``sentinel:NAME`` (drills.kinds.redis.connect, drills.kinds.sentinel).
"""

from __future__ import annotations

from collections.abc import Mapping

from drills.errors import StackError
from drills.kinds.redis.settings import RedisSettings
from drills.stack.service import Service

#: the kind of this package (its primary must be one of its own)
_KIND = "redis"
#: ``Endpoint.discovery`` of an endpoint whose addresses are Sentinels: ``sentinel:NAME``
SENTINEL_DISCOVERY = "sentinel:"


def primary_of(name: str, settings: RedisSettings, services: Mapping[str, Service]
               ) -> Service | None:
    """The service ``name`` replicates (None: it is a primary), checked to be a Redis."""
    if settings.replica_of is None:
        return None
    found = services.get(settings.replica_of)
    if found is None:
        before = ", ".join(services) or "none"
        raise StackError(f"{name}: replica_of={settings.replica_of!r} names no service listed "
                         f"before it (listed before: {before}). To fix this, list the primary "
                         "first in the stack.")
    if found.kind != _KIND:
        raise StackError(f"{name}: replica_of={settings.replica_of!r} is a {found.kind} "
                         "service; a Redis replica follows a Redis primary")
    return found


def replication_conf(upstream: tuple[str, int] | None, password: str) -> dict[str, str]:
    """redis.conf lines: whom to follow (if anyone), and the group's password for it.

    A primary sends a full copy of its data without delay: by default it waits 5 s
    (``repl-diskless-sync-delay``) for more replicas to share the transfer, which holds
    every replica's first link, and every resynchronisation after a failover, that long.
    """
    conf = {"masterauth": password, "repl-diskless-sync-delay": "0"}
    if upstream is not None:
        conf["replicaof"] = f"{upstream[0]} {upstream[1]}"
    return conf
