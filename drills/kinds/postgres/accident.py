"""Faults that damage PostgreSQL's data while the server stays: an accident, a bad page.

Accident: a person's statement that destroys data, issued at t_fault.

``DROP TABLE`` of the workload table, or ``DELETE`` without ``WHERE``. The server stays up
and healthy; the data is gone. t_fault is the instant the statement's commit was
acknowledged: every write acknowledged before it committed before it, and none invoked
after it can commit (the table is gone, or emptied under its lock).

CorruptPage: the server crashes with a damaged page in the workload table's file (a bad
disk, a torn write) and restarts. With data checksums, reading that page fails; the new
writes the probe makes never read it, so the drill must look for it (``detect(read=True)``).
"""

from __future__ import annotations

from typing import cast

from drills.errors import FaultError
from drills.faults.base import Fault
from drills.kinds.postgres import store
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack.capabilities import HasDataVolume, Killable
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


class CorruptPage(Fault):
    """Crash the server, overwrite bytes in block 0 of the workload table, start it again.

    A CHECKPOINT first writes block 0 out, so crash recovery (which only replays WAL after
    that checkpoint, and block 0 is full and untouched by new inserts) leaves the damage in
    place: the page fails its checksum when it is read.
    """

    needs = (Killable, HasDataVolume)

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"crash {service.name} with a corrupted page of {store.TABLE}")

    def inject(self) -> Action:
        with store.connect(self.target.endpoint, timeout_s=10) as conn:
            row = conn.execute("SELECT pg_relation_filepath(%s)", (store.TABLE,)).fetchone()
            conn.execute("CHECKPOINT")
        if row is None or not row[0]:
            raise FaultError(f"{self.target.name}: table {store.TABLE} has no data file")
        path = str(row[0])
        killed = cast(Killable, self.target).kill()
        if not self.target.wait_exit(30):
            raise FaultError(f"{self.target.name} did not exit after {killed.mechanism}")
        damaged = cast(HasDataVolume, self.target).corrupt_file(path, 4096, b"\xde\xad" * 32)
        self.target.restart()
        return Action(f"{killed.mechanism}; {damaged.mechanism}; started again (crash "
                      "recovery replays WAL after the checkpoint, which never touches block 0)",
                      killed.at, {"file": path, "offset": 4096, "bytes": 64})
