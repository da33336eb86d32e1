"""A planned change that interrupts the service: the drill of a maintenance window.

Switchover   ask the HA manager (Patroni's REST API) to hand the primary role to a replica:
             the old primary is demoted cleanly, so nothing acknowledged may be lost. The
             fault takes effect when the request is sent; the step ends when Patroni
             answers that the switchover is done.
"""

from __future__ import annotations

from drills.errors import FaultError, RecoveryError
from drills.faults.base import Fault
from drills.kinds.patroni.member import PatroniMember, switchover
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack.service import Service


class Switchover(Fault):
    """A planned switchover of a Patroni cluster from its leader to ``candidate``."""

    def __init__(self, leader: Service, candidate: Service, timeout_s: float = 60.0) -> None:
        if not isinstance(leader, PatroniMember) or not isinstance(candidate, PatroniMember):
            raise FaultError(f"switchover from {leader.name} to {candidate.name}: both must be "
                             "members of a Patroni cluster")
        super().__init__(leader, f"switchover from {leader.name} to {candidate.name}")
        self.member = leader
        self.candidate = candidate
        self.timeout_s = timeout_s

    def inject(self) -> Action:
        asked = Instant.now()
        try:
            done = switchover(self.member, self.candidate, self.timeout_s)
        except RecoveryError as exc:
            raise FaultError(str(exc)) from exc
        # t_fault: when the request left (the leader starts to demote itself at once)
        return Action(done.mechanism, asked, {**done.facts, "answered_mono": done.at.mono})
