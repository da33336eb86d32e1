"""Server settings a scenario asks for, independent of the runtime that applies them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PostgresSettings:
    """postgresql.conf settings that matter to a drill."""

    synchronous_commit: bool = True
    fsync: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    def conf(self) -> dict[str, str]:
        return {
            "fsync": "on" if self.fsync else "off",
            "synchronous_commit": "on" if self.synchronous_commit else "off",
            "shared_buffers": "128MB",
            "max_connections": "100",
            "log_min_messages": "warning",
            "log_line_prefix": "'%m [%p] '",
            **self.extra,
        }


@dataclass(frozen=True)
class RedisSettings:
    """Redis persistence settings."""

    appendonly: bool = True
    appendfsync: str = "everysec"
    save: str = ""  # RDB snapshot points, e.g. "2 1"; "" disables snapshots

    def conf(self) -> dict[str, str]:
        return {
            "appendonly": "yes" if self.appendonly else "no",
            "appendfsync": self.appendfsync,
            "save": f'"{self.save}"',
            # a drill's AOF must not be rewritten under it: the restart replays it as written
            "auto-aof-rewrite-percentage": "0",
        }
