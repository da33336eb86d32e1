"""MongoDB settings a drill asks for, on any runtime: the workload's write concern."""

from __future__ import annotations

from dataclasses import dataclass

from drills.kinds.base import STORAGE, ServiceSettings

#: read preferences pymongo knows by these names (the probe and read-back read the primary)
READ_PREFERENCES = ("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest")


@dataclass(frozen=True)
class MongoSettings(ServiceSettings):
    """The write concern every workload write carries, and where the data lives.

    ``j=True``: acknowledged once the write is in the journal (on the local stand-in, once
    PostgreSQL committed it durably). ``j=False``: acknowledged from memory; on the stand-in
    its PostgreSQL then runs with ``synchronous_commit=off``, which acknowledges a commit
    before its WAL is flushed: the closest durability FerretDB has to an unjournaled write
    (FerretDB itself ignores the write concern).
    """

    #: acknowledged by this many members (1: the primary alone); ``majority``
    w: int | str = 1
    j: bool = True
    read_preference: str = "primary"
    #: where the data directory lives: ``disk``, or ``lazyfs`` (the PowerLoss fault)
    storage: str = "disk"

    def __post_init__(self) -> None:
        if self.storage not in STORAGE:
            raise ValueError(f"storage {self.storage!r}: use one of {', '.join(STORAGE)}")
        if isinstance(self.w, bool) or not (
                (isinstance(self.w, int) and self.w >= 1) or self.w == "majority"):
            raise ValueError(f"w {self.w!r}: use a number of members (1 or more) or "
                             "'majority'; w=0 is refused: an unacknowledged write cannot be "
                             "told lost from never sent")
        if self.read_preference not in READ_PREFERENCES:
            raise ValueError(f"read_preference {self.read_preference!r}: use one of "
                             f"{', '.join(READ_PREFERENCES)}")

    def client_options(self) -> tuple[tuple[str, str], ...]:
        """The write concern and read preference every client of the service applies.

        The probe and the read-back read the primary whatever the read preference: the
        loss is judged on what the primary holds.
        """
        return (("w", str(self.w)), ("j", "true" if self.j else "false"),
                ("readPreference", self.read_preference))

    def conf(self) -> dict[str, str]:
        """The write concern and read preference, as the report shows them."""
        return {"w": str(self.w), "j": "true" if self.j else "false",
                "readPreference": self.read_preference}
