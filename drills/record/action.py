"""The record of an action: what a fault, a revert, a recovery step or a backup did.

Every action says how it worked (the mechanism, in words an auditor can check), the
instant it took effect (for a fault: t_fault, docs/measurement.md rule 5; not when it was asked
for), and facts for the journal. The drill writes it onto the timeline as a step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drills.record.clock import Instant


@dataclass(frozen=True)
class Action:
    """How an action worked, when it took effect, and what else the journal should hold."""

    mechanism: str
    at: Instant
    facts: Mapping[str, Any] = field(default_factory=dict)

    def with_facts(self, **facts: Any) -> Action:
        return Action(self.mechanism, self.at, {**self.facts, **facts})
