"""Automatic failover: the steps an HA manager takes, observed by the drill, each an RTO phase.

With Patroni or Redis Sentinel the drill does not promote anything: it watches the manager
notice the failure (detection), elect and promote a replica (promotion), and then the
clients find the new primary (drills.recovery.failover.Repoint). ``Observe`` is one such
step: it waits for what the manager reports (an event it publishes, a leader key) and
ends when that happened, by the manager's own account. A manager that never does it
ends the step in a RecoveryError that says why, as far as the manager tells: the drill
fails (RECOVERY_FAILED), it does not hang.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from drills.errors import RecoveryError
from drills.record.action import Action
from drills.recovery.base import RecoveryStep

#: waits up to the given seconds; the action when it happened, None when it did not
Watch = Callable[[float], Action | None]


class Observe(RecoveryStep):
    """Wait for the HA manager to report ``what``; explain why not after the timeout."""

    def __init__(self, name: str, watch: Watch, why_not: Callable[[], str]) -> None:
        self.name = name
        self.watch = watch
        self.why_not = why_not

    def run(self, timeout_s: float) -> Action:
        began = time.monotonic()
        done = self.watch(timeout_s)
        if done is None:
            raise RecoveryError(f"{self.name}: not seen within {timeout_s:g} s. "
                                f"{self.why_not()}")
        return done.with_facts(observed=True, waited_s=round(time.monotonic() - began, 3))
