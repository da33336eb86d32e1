"""postgresql.conf settings a drill asks for, on any runtime."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from drills.kinds.base import ServiceSettings


@dataclass(frozen=True)
class PostgresSettings(ServiceSettings):
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
