"""Redis persistence settings a drill asks for, on any runtime."""

from __future__ import annotations

from dataclasses import dataclass

from drills.kinds.base import STORAGE, ServiceSettings


@dataclass(frozen=True)
class RedisSettings(ServiceSettings):
    """Redis settings: persistence, and the primary it replicates (if it is a replica)."""

    appendonly: bool = True
    appendfsync: str = "everysec"
    save: str = ""  # RDB snapshot points, e.g. "2 1"; "" disables snapshots
    #: the name of the primary this server replicates, a Redis service of the same stack
    #: listed before it; None: a primary (or a server on its own)
    replica_of: str | None = None
    #: where the data directory lives: ``disk``, or ``lazyfs`` (local runtime: a FUSE file
    #: system that forgets what was not fsynced, for the PowerLoss fault)
    storage: str = "disk"
    #: its data directory (AOF, RDB) on an ext4 of this many bytes of its own (the
    #: DiskFull fault); None: no
    disk_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.storage not in STORAGE:
            raise ValueError(f"storage {self.storage!r}: use one of {', '.join(STORAGE)}")

    def conf(self) -> dict[str, str]:
        """The persistence directives (replication is the runtime's: it knows the address)."""
        return {
            "appendonly": "yes" if self.appendonly else "no",
            "appendfsync": self.appendfsync,
            "save": f'"{self.save}"',
            # a drill's AOF must not be rewritten under it: the restart replays it as written
            "auto-aof-rewrite-percentage": "0",
        }


def conf_text(conf: dict[str, str]) -> str:
    """A redis.conf file: one directive per line."""
    return "".join(f"{k} {v}\n" for k, v in conf.items())
