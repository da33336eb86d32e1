"""Data stores as the drill sees them: writes, the probe, read-back and identity.

Each store module gives a ``Writer`` (used by the workload), a ``Probe`` (the
steady-state check), ``read_back`` and ``delete`` (used by the checker and faults), and
``identify`` (ready checks). Writers raise ``NotSent`` when a write certainly did not
reach the server and ``Rejected`` when the server refused it; any other exception
means the outcome is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from drills.stack.service import Endpoint


class NotSent(Exception):
    """The write never left the client (no connection): outcome ``fail``."""


class Rejected(Exception):
    """The server answered with a definite refusal: outcome ``fail``."""


class ProbeFailed(Exception):
    """The probe's write or read-back did not come back right."""


class Writer(Protocol):
    def write(self, op_id: int, value: str) -> None: ...
    def close(self) -> None: ...


class Probe(Protocol):
    def attempt(self, seq: int) -> None: ...
    def close(self) -> None: ...


def writer_for(endpoint: Endpoint) -> Writer:
    if endpoint.kind == "postgres":
        from drills.datastore import postgres
        return postgres.PgWriter(endpoint)
    from drills.datastore import redis_store
    return redis_store.RedisWriter(endpoint)


def probe_for(endpoint: Endpoint) -> Probe:
    if endpoint.kind == "postgres":
        from drills.datastore import postgres
        return postgres.PgProbe(endpoint)
    from drills.datastore import redis_store
    return redis_store.RedisProbe(endpoint)


def read_back(endpoint: Endpoint) -> tuple[Mapping[int, str], str]:
    """Every workload write the store holds, id -> value, and where they were read from."""
    if endpoint.kind == "postgres":
        from drills.datastore import postgres
        return postgres.read_back(endpoint), f"table {postgres.TABLE}"
    from drills.datastore import redis_store
    return redis_store.read_back(endpoint), f"keys {redis_store.KEY_PREFIX}*"


def delete(endpoint: Endpoint, ids: list[int]) -> int:
    """Delete workload writes behind the workload's back; returns how many went."""
    if endpoint.kind == "postgres":
        from drills.datastore import postgres
        return postgres.delete(endpoint, ids)
    from drills.datastore import redis_store
    return redis_store.delete(endpoint, ids)
