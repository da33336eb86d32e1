"""The address clients use for a replicated service: every member, the writable one found.

A client of a replicated PostgreSQL lists every member and keeps the first that accepts
writes (libpq ``target_session_attrs=read-write``), as an application that follows a
failover does. The drill loads, probes and reads back through this address: after a
promotion the new primary is the one it reaches, and the read-back says what that new
primary holds (docs/measurement.md rule 15).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from drills.datastore import store_for
from drills.errors import StackError
from drills.stack.endpoint import Endpoint
from drills.stack.service import Service


class Replicated(Service):
    """A replicated service as its clients see it: one name, every member's address.

    It starts and stops nothing: its members are services of the stack.
    """

    def __init__(self, name: str, members: Sequence[Service],
                 endpoint: Endpoint | None = None) -> None:
        """A replicated service of ``members`` (the primary first).

        ``endpoint``: how clients find the writable member when they ask someone for it
        (Redis Sentinels: drills.kinds.sentinel.watch.client_endpoint); by default every
        member's address, the writable one found by the client (libpq).
        """
        if len(members) < 2:
            raise StackError(f"{name}: a replicated service needs a primary and a replica")
        kinds = {m.kind for m in members}
        if len(kinds) != 1:
            raise StackError(f"{name}: its members are of different kinds ({', '.join(kinds)})")
        self.name = name
        self.kind = members[0].kind
        self.runtime = members[0].runtime
        self.members = tuple(members)
        first = members[0].endpoint
        self.endpoint = endpoint or replace(first, alternates=tuple(
            (m.endpoint.host, m.endpoint.port) for m in members[1:]))

    def start(self) -> None:
        raise StackError(f"{self.name}: its members start with the stack")

    def stop(self) -> None:
        raise StackError(f"{self.name}: its members stop with the stack")

    def wait_exit(self, timeout: float) -> bool:
        return all(m.wait_exit(timeout) for m in self.members)

    def alive(self) -> bool:
        return any(m.alive() for m in self.members)

    def identify(self) -> Mapping[str, str]:
        """The identity of the member the client reaches (the writable one)."""
        return store_for(self.kind).identify(self.endpoint)

    def writable_member(self) -> Service | None:
        """The member the client reaches now; None if none answers.

        By the address the client connected to, where the kind's adapter says it (libpq
        over every member's address: containers of one image on a bridge network have the
        same port and data directory); else by the server's identity.
        """
        reached = getattr(store_for(self.kind), "reached", None)
        if callable(reached) and self.endpoint.discovery is None:
            try:
                address = reached(self.endpoint)
            except StackError:
                return None
            for member in self.members:
                if (member.endpoint.host, member.endpoint.port) == address:
                    return member
        try:
            found = dict(self.identify())
        except StackError:
            return None
        for member in self.members:
            try:
                if dict(member.identify()) == found:  # its data location tells it apart
                    return member
            except StackError:
                continue
        return None

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(f"[{m.name}] {m.log_tail(lines)}" for m in self.members)

    def describe(self) -> dict[str, Any]:
        return {"service": self.name, "kind": self.kind, "members": [m.name for m in self.members],
                "endpoint": self.endpoint.public()}


def client_endpoint(members: Sequence[Service]) -> Endpoint:
    """The multi-host endpoint of ``members``, in the order the client tries them."""
    return Replicated("clients", members).endpoint
