"""The registry of service kinds: one package per kind, one line here.

A kind (postgres, redis) is everything drills knows about one sort of server: its
settings, how the local and compose runtimes start it, how to write to it, probe it and
read it back (its data-store adapter), and where its offline image is built from. The
rest of drills asks this registry and never compares kind names itself
(tests/unit/test_kinds.py checks that by reading the source).

Adding a kind: a package ``drills/kinds/<name>/`` whose ``__init__`` defines ``KIND``
(a ``drills.kinds.base.ServiceKind``), and its line in ``_PACKAGES`` below.

Kind packages are imported on first use and must not import database drivers at import
time: the Locust child imports this registry before gevent patches the standard library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from drills.errors import UnknownKind

if TYPE_CHECKING:
    from drills.kinds.base import ServiceKind

_PACKAGES: dict[str, str] = {
    "postgres": "drills.kinds.postgres",
    "redis": "drills.kinds.redis",
    "toxiproxy": "drills.kinds.toxiproxy",
    "app": "drills.kinds.app",
    "sentinel": "drills.kinds.sentinel",
    "etcd": "drills.kinds.etcd",
    "patroni": "drills.kinds.patroni",
    "haproxy": "drills.kinds.haproxy",
    "mongodb": "drills.kinds.mongodb",
}


def names() -> tuple[str, ...]:
    """Every registered kind, in registry order."""
    return tuple(_PACKAGES)


def get(name: object) -> ServiceKind:
    """The kind called ``name``; UnknownKind (naming the known kinds) otherwise."""
    if not isinstance(name, str) or name not in _PACKAGES:
        raise UnknownKind(name, names())
    kind: ServiceKind = importlib.import_module(_PACKAGES[name]).KIND
    return kind


def find(name: str) -> ServiceKind | None:
    """The kind called ``name``, or None when no package registered it.

    A service of a team's stack that drills has no package for (an HTTP API, a search
    engine) is reached, faulted and health-checked as a container.
    """
    return get(name) if name in _PACKAGES else None


def all_kinds() -> tuple[ServiceKind, ...]:
    return tuple(get(name) for name in _PACKAGES)


def of_settings(settings: Any) -> ServiceKind:
    """The kind whose settings class ``settings`` is an instance of."""
    for kind in all_kinds():
        if isinstance(settings, kind.settings_type):
            return kind
    raise UnknownKind(type(settings).__name__, names())


def driver_modules() -> frozenset[str]:
    """Top-level modules of every kind's database driver (psycopg, redis, ...)."""
    return frozenset(m for kind in all_kinds() for m in kind.driver_modules)
