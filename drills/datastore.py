"""Data stores as the drill sees them: writes, the probe, read-back and identity.

Each kind's ``store`` module is a ``DataStore`` for its servers; the workload,
the probe, the checker and the data faults reach it through ``store_for(kind)``, so
none of them knows which database it talks to. Writers raise ``NotSent`` when a write
certainly did not reach the server and ``Rejected`` when the server refused it; any
other exception means the outcome is unknown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from drills.stack.endpoint import Endpoint


class NotSent(Exception):
    """The write never left the client (no connection): outcome ``fail``."""


class Rejected(Exception):
    """The server answered with a definite refusal: outcome ``fail``."""


class LedgerGone(Exception):
    """The store answers, but drills' ledger (its table) is not there: every write is lost.

    A server lost and not restored, a table dropped: the read-back is then empty, a
    measurement, not a read that failed.
    """


class ProbeFailed(Exception):
    """The probe's write or read-back did not come back right."""


class Writer(Protocol):
    def write(self, op_id: int, value: str) -> None: ...
    def close(self) -> None: ...


class Probe(Protocol):
    def attempt(self, seq: int) -> None: ...
    def close(self) -> None: ...


class DataStore(Protocol):
    """What a kind's data-store adapter offers the drill."""

    #: where the read-back comes from, for the report: "table drill_writes", "keys drills:w:*"
    source: str

    def writer(self, endpoint: Endpoint) -> Writer:
        """One workload connection."""
        ...

    def probe(self, endpoint: Endpoint) -> Probe:
        """The steady-state probe: a write acknowledged and read back."""
        ...

    def prepare(self, endpoint: Endpoint) -> None:
        """Create what the workload and probe write into (tables); idempotent."""
        ...

    def read_back(self, endpoint: Endpoint) -> Iterator[tuple[int, str]]:
        """Every workload write the store holds, (id, value), streamed.

        In id order where the store can sort cheaply; raises ``LedgerGone`` when the
        ledger is gone.
        """
        ...

    def delete(self, endpoint: Endpoint, ids: list[int]) -> int:
        """Delete workload writes behind the workload's back; returns how many went."""
        ...

    def load_dataset(self, endpoint: Endpoint, size_bytes: int) -> Mapping[str, int]:
        """Load about ``size_bytes`` of data apart from the workload's, for restores.

        Returns its rows and its size as the store counts it.
        """
        ...

    def identify(self, endpoint: Endpoint, expect: Mapping[str, str] | None = None
                 ) -> dict[str, str]:
        """Prove the server is ours (user, database, data location); returns what it found."""
        ...


def store_for(kind: str) -> DataStore:
    """The data-store adapter of ``kind`` (imports its driver on first use)."""
    from drills import kinds

    return kinds.get(kind).store()
