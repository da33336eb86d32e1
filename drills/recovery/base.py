"""The recovery-step interface: one step of a recovery procedure, returning an Action."""

from __future__ import annotations

from abc import ABC, abstractmethod

from drills.record.action import Action


class RecoveryStep(ABC):
    """One step of a recovery procedure; the drill times it as an RTO phase."""

    #: shown in the timeline and report, e.g. "restart postgres"
    name: str

    @abstractmethod
    def run(self, timeout_s: float) -> Action:
        """Do the step; say how, when it took effect, and facts for the journal."""
