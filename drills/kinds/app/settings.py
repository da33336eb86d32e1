"""The reference app's settings: which services it uses, and whether through Toxiproxy."""

from __future__ import annotations

from dataclasses import dataclass

from drills.kinds.base import ServiceSettings

#: the app's table: the one drills reads back from PostgreSQL (RPO) and prepares before load
TABLE = "drill_writes"


@dataclass(frozen=True)
class AppSettings(ServiceSettings):
    """The app in front of a database and a cache, each named by its service in the stack.

    With ``proxy`` (a Toxiproxy service of the stack), the app reaches each of them
    through a link of that proxy, where network faults act; without, directly.
    """

    database: str = "postgres"
    cache: str = "redis"
    proxy: str | None = "toxiproxy"
    deadline_s: float = 2.0  # the longest a request may take before the app answers 504

    def conf(self) -> dict[str, str]:
        return {"database": self.database, "cache": self.cache,
                "proxy": self.proxy or "(direct)", "deadline_s": f"{self.deadline_s:g}",
                "table": TABLE}
