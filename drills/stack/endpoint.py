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
