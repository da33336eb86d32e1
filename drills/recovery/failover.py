"""Failover by hand (warm standby): promote a replica, clients follow, the old primary rejoins.

Promote   the replica ends recovery and accepts writes (PostgreSQL ``pg_promote()``, Redis
          ``REPLICAOF NO ONE``), through the kind's data-store adapter: the same on every
          runtime
Repoint   the clients reach the new primary: for libpq's multi-host address
          (drills.replication.group) nothing is moved, the step waits until a client
          connecting through the address lands on the new primary; a team's procedure that
          moves an address (a VIP, DNS, a pooler) is a procedure step instead
Rejoin    the old primary, stopped, becomes a replica of the new one (pg_rewind); what it
          alone had acknowledged is gone from it afterwards

Each is one RTO phase on the timeline.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from drills.datastore import store_for
from drills.errors import RecoveryError, StackError
from drills.record.action import Action
from drills.record.clock import Instant
from drills.recovery.base import RecoveryStep
from drills.replication.group import Replicated
from drills.stack.service import Service


class Promote(RecoveryStep):
    """Make a replica the primary; the step ends when it accepts writes.

    Given several replicas, the one that received the most of the primary's log is
    promoted, as a runbook says: it has lost the least. Each candidate's position is
    recorded; one that does not answer is passed over.
    """

    def __init__(self, replica: Service, *others: Service) -> None:
        self.candidates = (replica, *others)
        for candidate in self.candidates:
            adapter = store_for(candidate.kind)
            if not callable(getattr(adapter, "promote", None)):
                raise StackError(f"{candidate.name}: drills cannot promote a {candidate.kind} "
                                 "server")
        #: the replica promoted, once the step ran
        self.promoted: Service | None = None
        self.name = (f"promote {replica.name}" if not others else
                     f"promote the most advanced of {', '.join(c.name for c in self.candidates)}")

    def run(self, timeout_s: float) -> Action:
        chosen, positions = self._most_advanced()
        before = _role(chosen)
        try:
            said = store_for(chosen.kind).promote(  # type: ignore[attr-defined]
                chosen.endpoint, timeout_s)
        except StackError as exc:
            raise RecoveryError(f"promoting {chosen.name} failed: {exc}") from exc
        at = Instant.now()
        self.promoted = chosen
        facts: dict[str, object] = {"service": chosen.name, "role_before": before,
                                    "role_after": _role(chosen)}
        if len(self.candidates) > 1:
            facts["candidates"] = positions
            said = f"{chosen.name}, the most advanced replica: {said}"
        return Action(said, at, facts)

    def _most_advanced(self) -> tuple[Service, dict[str, int | None]]:
        """The candidate with the furthest received (else replayed) position, and each one's."""
        if len(self.candidates) == 1:
            return self.candidates[0], {}
        positions: dict[str, int | None] = {}
        for candidate in self.candidates:
            try:
                state = store_for(candidate.kind).replication(  # type: ignore[attr-defined]
                    candidate.endpoint)
                positions[candidate.name] = state.received if state.received is not None \
                    else state.position
            except StackError:
                positions[candidate.name] = None
        answered = [c for c in self.candidates if positions[c.name] is not None]
        if not answered:
            raise RecoveryError("no replica to promote answered: "
                                + ", ".join(c.name for c in self.candidates))
        return max(answered, key=lambda c: positions[c.name] or 0), positions


class Repoint(RecoveryStep):
    """Wait until a client connecting through ``address`` reaches the new primary.

    The mechanism is the address's own (libpq tries every member and keeps the writable
    one); the step measures how long the clients take to find the new primary: ``to``, or
    when a procedure of the team's promoted it, any member other than ``away_from``.
    """

    def __init__(self, address: Replicated, to: Service | None = None, every_s: float = 0.05,
                 away_from: Service | None = None) -> None:
        if to is not None and to not in address.members:
            raise StackError(f"{to.name} is not a member of {address.name}")
        if to is None and away_from is None:
            raise StackError(f"repoint {address.name}: say which member the clients must "
                             "reach, or which they must leave")
        self.address = address
        self.to = to
        self.away_from = away_from
        self.every_s = every_s
        self.name = (f"repoint the clients of {address.name} to {to.name}" if to is not None
                     else f"repoint the clients of {address.name} away from "
                          f"{away_from.name if away_from else '?'}")

    def _arrived(self, reached: Service | None) -> bool:
        if self.to is not None:
            return reached is self.to
        return reached is not None and reached is not self.away_from

    def run(self, timeout_s: float) -> Action:
        deadline = time.monotonic() + timeout_s
        tries = 0
        last = "nothing reached yet"
        while True:
            tries += 1
            reached = self.address.writable_member()
            if reached is not None and self._arrived(reached):
                return Action(f"a client connecting to {self.address.name} (libpq "
                              "target_session_attrs=read-write over every member) reaches "
                              f"{reached.name}", Instant.now(),
                              {"service": reached.name, "tries": tries})
            last = f"it reaches {reached.name}" if reached else "no member accepts writes"
            if time.monotonic() >= deadline:
                wanted = self.to.name if self.to is not None else "a new primary"
                raise RecoveryError(f"the clients of {self.address.name} did not reach "
                                    f"{wanted} within {timeout_s:g} s: {last}")
            time.sleep(self.every_s)


@runtime_checkable
class Rejoinable(Protocol):
    """A stopped server that can become a replica of another member (pg_rewind)."""

    def rejoin(self, primary: Service) -> str: ...


class Rejoin(RecoveryStep):
    """The old primary, stopped, rewound and started as a replica of ``primary``."""

    def __init__(self, old: Service, primary: Service) -> None:
        if not isinstance(old, Rejoinable):
            raise StackError(f"{old.name}: drills cannot rejoin a {old.kind} server on the "
                             f"{old.runtime} runtime as a replica")
        self.old = old
        self.primary = primary
        self.name = f"rejoin {old.name} as a replica of {primary.name}"

    def run(self, timeout_s: float) -> Action:
        if self.old.alive():
            self.old.stop()
        if not self.old.wait_exit(timeout_s):
            raise RecoveryError(f"{self.old.name} did not stop; cannot rewind it")
        assert isinstance(self.old, Rejoinable)
        try:
            said = self.old.rejoin(self.primary)
            waited = self.old.wait_ready(timeout_s)
        except StackError as exc:
            raise RecoveryError(f"rejoining {self.old.name}: {exc}") from exc
        return Action(f"pg_rewind from {self.primary.name}, then started as its replica: "
                      f"{said}", Instant.now(), {"service": self.old.name,
                                                 "ready_after_start_s": waited,
                                                 "role_after": _role(self.old)})


def _role(service: Service) -> str | None:
    try:
        state = store_for(service.kind).replication(service.endpoint)  # type: ignore[attr-defined]
    except Exception:  # a role that cannot be read is no reason to fail the step
        return None
    role: str = state.role
    return role



class Fence(RecoveryStep):
    """Stop the old primary accepting writes: the end of a split brain.

    What a fencing agent or an HA manager's demotion does; the server keeps running
    read-only, so the writes only it acknowledged can still be read (Drill.read_demoted)
    before it rejoins.
    """

    def __init__(self, old: Service) -> None:
        if not callable(getattr(store_for(old.kind), "fence", None)):
            raise StackError(f"{old.name}: drills cannot fence a {old.kind} server")
        self.old = old
        self.name = f"fence {old.name}"

    def run(self, timeout_s: float) -> Action:
        try:
            said = store_for(self.old.kind).fence(  # type: ignore[attr-defined]
                self.old.endpoint, min(timeout_s, 30.0))
        except StackError as exc:
            raise RecoveryError(f"fencing {self.old.name} failed: {exc}") from exc
        at = Instant.now()
        return Action(f"fenced: {said}", at, {"service": self.old.name})
