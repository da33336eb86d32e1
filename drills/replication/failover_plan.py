"""A version 2 plan's replicated services and its failover steps.

A service of the plan's stack with ``replica_of: PRIMARY`` is a streaming replica of it.
The primary and its replicas are one replication group: its clients (drills' load, probe,
read-back and the plan's checks on the primary) use every member's address and keep the
writable one (drills.replication.group), so they follow a promotion as the team's
application does. The failover steps a scenario writes are built as they come, because
a repoint or a rejoin follows whichever replica the promotion before it chose.
"""

from __future__ import annotations

from collections.abc import Mapping

from drills.errors import RecoveryError
from drills.plan.scenario_spec import StepAction, StepSpec
from drills.plan.stack_spec import StackSpec
from drills.recovery.base import RecoveryStep
from drills.recovery.failover import Fence, Promote, Rejoin, Repoint
from drills.replication.group import Replicated
from drills.stack.service import Service


def groups(spec: StackSpec, services: Mapping[str, Service]) -> dict[str, Replicated]:
    """Each primary that has replicas, as its clients see it: named after the primary."""
    return {name: Replicated(name, [services[name], *(services[r]
                                                      for r in spec.replicas_of(name))])
            for name in spec.services if spec.replicas_of(name)}


def members(found: Mapping[str, Replicated]) -> list[Service]:
    """Every member of every group: the services whose roles the drill watches."""
    return [m for group in found.values() for m in group.members]


class FailoverSteps:
    """The recovery steps of one scenario's failover, each built when its turn comes."""

    def __init__(self, spec: StackSpec, services: Mapping[str, Service],
                 found: Mapping[str, Replicated], faulted: str) -> None:
        self.spec = spec
        self.services = services
        self.groups = found
        #: the service the fault hit: clients must leave it when no promotion is named
        self.faulted = services[faulted]
        self._promotion: Promote | None = None

    @property
    def promoted(self) -> Service | None:
        """The replica this scenario's last ``promote`` step promoted, once it ran."""
        return self._promotion.promoted if self._promotion is not None else None

    def step(self, step: StepSpec) -> RecoveryStep:
        services = self.services
        match step.action:
            case StepAction.PROMOTE:
                self._promotion = Promote(*(services[n] for n in step.among or (step.target,)))
                return self._promotion
            case StepAction.REPOINT:
                group = self.groups[step.target]
                # without a promotion of drills' (the team's procedure promoted), the clients
                # must reach a writable member other than the one the fault hit
                return Repoint(group, to=self.promoted, away_from=self.faulted)
            case StepAction.FENCE:
                return Fence(services[step.target])
            case StepAction.REJOIN:
                return Rejoin(services[step.target], self._new_primary(step.target))
        raise AssertionError(f"not a failover step: {step.action}")

    def _new_primary(self, old: str) -> Service:
        """The primary ``old`` must follow: the one promoted, else the one clients reach."""
        if self.promoted is not None:
            return self.promoted
        group = self.groups[self.spec.primary_of(old)]
        reached = group.writable_member()
        if reached is None or reached.name == old:
            raise RecoveryError(f"rejoin {old}: no other member of {group.name} accepts "
                                "writes; promote one first (promote: SERVICE, or your "
                                "procedure)")
        return reached
