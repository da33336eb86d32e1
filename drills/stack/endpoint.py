"""How to reach a service: host, port, credentials. The password is per run and never printed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """Where a service answers, and as whom to connect."""

    kind: str  # the service kind (drills.kinds): picks the data-store adapter
    host: str
    port: int
    password: str = field(repr=False)
    user: str | None = None
    database: str | None = None
    #: further (host, port) of the same replicated service, tried in order after ``host``:
    #: the client finds the writable one (libpq ``target_session_attrs=read-write``)
    alternates: tuple[tuple[str, int], ...] = ()
    #: how the client finds the writable server instead, when it asks someone: for Redis
    #: ``sentinel:NAME`` (host, port and alternates are then Sentinels, NAME the primary's
    #: name there)
    discovery: str | None = None
    #: how the client proves who it is, where the kind knows several ways: for MongoDB
    #: ``PLAIN`` (FerretDB, which hands the credentials to its PostgreSQL) or None (the
    #: driver's default, SCRAM against the ``admin`` database, as mongod wants)
    auth: str | None = None
    #: options of every workload client, where a kind's durability is the client's choice:
    #: MongoDB's write concern, ``(("w", "1"), ("j", "true"))``
    client_options: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # from JSON: lists back to tuples, so the endpoint stays hashable
        object.__setattr__(self, "alternates",
                           tuple((str(h), int(p)) for h, p in self.alternates))
        object.__setattr__(self, "client_options",
                           tuple((str(k), str(v)) for k, v in self.client_options))

    def addresses(self) -> tuple[tuple[str, int], ...]:
        """Every (host, port), in the order a client tries them."""
        return ((self.host, self.port), *self.alternates)

    def public(self) -> dict[str, Any]:
        """For journals and reports: everything but the secret."""
        data = asdict(self)
        data["password"] = "<redacted>"
        return data

    def to_env(self) -> str:
        """Serialised for a child process: on its standard input (never argv nor environment)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, raw: str) -> Endpoint:
        return cls(**json.loads(raw))
