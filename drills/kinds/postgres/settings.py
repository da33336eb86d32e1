"""postgresql.conf settings a drill asks for, on any runtime."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from drills.kinds.base import STORAGE, ServiceSettings


@dataclass(frozen=True)
class PostgresSettings(ServiceSettings):
    """postgresql.conf settings that matter to a drill."""

    synchronous_commit: bool = True
    fsync: bool = True
    #: WAL archiving into the service's backup directory (``wal/``), for base backups,
    #: recovery to the end of the archive and point-in-time recovery
    archive: bool = False
    #: the longest a finished transaction waits before its WAL segment is archived
    archive_timeout_s: int = 2
    extra: Mapping[str, str] = field(default_factory=dict)
    #: a streaming replica of this service of the stack (listed before it): cloned with
    #: pg_basebackup, following it through a replication slot named after the replica
    replica_of: str | None = None
    #: the replica reaches its primary through a link of this Toxiproxy service (listed
    #: before it), where a drill delays or cuts replication; None: directly
    replicate_via: str | None = None
    #: a primary: which replicas must confirm a commit before it is acknowledged
    #: ("FIRST 1 (*)", "ANY 1 (*)"); empty: asynchronous replication
    synchronous_standby_names: str = ""
    #: where the data directory lives: ``disk``, or ``lazyfs`` (local runtime: a FUSE file
    #: system that forgets what was not fsynced, for the PowerLoss fault)
    storage: str = "disk"
    #: its WAL directory (pg_wal) on an ext4 of this many bytes of its own, with 1 MB WAL
    #: segments so that a full disk shows within seconds (the DiskFull fault); None: no
    wal_disk_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.storage not in STORAGE:
            raise ValueError(f"storage {self.storage!r}: use one of {', '.join(STORAGE)}")

    def conf(self) -> dict[str, str]:
        return {
            "fsync": "on" if self.fsync else "off",
            "synchronous_commit": "on" if self.synchronous_commit else "off",
            "synchronous_standby_names": f"'{self.synchronous_standby_names}'",
            "shared_buffers": "128MB",
            "max_connections": "100",
            "log_min_messages": "warning",
            "log_line_prefix": "'%m [%p] '",
            **self.extra,
        }


#: the WAL archive, inside the service's backup directory
WAL_ARCHIVE = "wal"


def archive_conf(settings: PostgresSettings, backup_dir: str) -> dict[str, str]:
    """postgresql.conf lines for WAL archiving into ``backup_dir``/wal (none if off).

    Each segment is copied under a temporary name and renamed, so the archive never holds
    half a segment; an existing segment is never overwritten (the same one again is fine).
    """
    if not settings.archive:
        return {}
    if any(c.isspace() or c in "'\"%" for c in backup_dir):
        raise ValueError(f"backup directory {backup_dir!r}: no spaces, quotes or % allowed")
    wal = f"{backup_dir}/{WAL_ARCHIVE}"
    # a segment archived before a crash, but not yet marked done, is offered again: the
    # same file already there is success, a different one is refused
    command = (f"{{ test -f {wal}/%f && cmp -s %p {wal}/%f; }} || {{ mkdir -p {wal} && "
               f"test ! -f {wal}/%f && cp %p {wal}/%f.part && mv {wal}/%f.part {wal}/%f; }}")
    return {"archive_mode": "on", "archive_command": f"'{command}'",
            "archive_timeout": str(settings.archive_timeout_s), "wal_level": "replica"}
