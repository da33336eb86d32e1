"""An accident: a person's statement that destroys data, issued at t_fault.

``DROP TABLE`` of the workload table, or ``DELETE`` without ``WHERE``. The server stays up
and healthy; the data is gone. t_fault is the instant the statement's commit was
acknowledged: every write acknowledged before it committed before it, and none invoked
after it can commit (the table is gone, or emptied under its lock).
"""

from __future__ import annotations

from drills.action import Action
from drills.clock import Instant
from drills.errors import FaultError
from drills.faults.base import Fault
from drills.kinds.postgres import store
from drills.stack.service import Service

STATEMENTS = {
    "drop": f"DROP TABLE {store.TABLE}",
    "delete": f"DELETE FROM {store.TABLE}",
}


class Accident(Fault):
    """``DROP TABLE`` (``statement="drop"``) or ``DELETE`` without ``WHERE`` (``"delete"``)."""

    def __init__(self, service: Service, statement: str = "drop") -> None:
        if statement not in STATEMENTS:
            raise FaultError(f"accident {statement!r}: use one of {', '.join(STATEMENTS)}")
        self.sql = STATEMENTS[statement]
        super().__init__(service, f"accidental {self.sql} on {service.name}")

    def inject(self) -> Action:
        with store.connect(self.target.endpoint, timeout_s=10) as conn:
            sent = Instant.now()
            cur = conn.execute(self.sql)
            at = Instant.now()
        return Action(f"{self.sql} from a separate connection, autocommit", at,
                      {"statement": self.sql, "sent_mono": sent.mono,
                       "rows": cur.rowcount if cur.rowcount >= 0 else None})
