"""What a kind tells the compose runtime about one of its services, and what it is given.

The compose file holds one template service per kind; for every service of a drill the
runtime copies its kind's template and applies the kind's ``ComposeSpec``: the service's
own port, secret files, environment, command and data volume. Nothing here talks to
Docker, so kinds can build their specs without it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from drills.stack.endpoint import Endpoint
from drills.stack.ports import free_port
from drills.stack.service import Service
from drills.stack.workdir import write_private


@dataclass(frozen=True)
class ComposeSpec:
    """One service of one kind, as the compose runtime must run it."""

    endpoint: Endpoint
    #: the port the server listens on inside the container
    container_port: int
    #: added to (and overriding) the template's environment; never a secret
    environment: Mapping[str, str] = field(default_factory=dict)
    #: replaces the template's command when given
    command: Sequence[str] | None = None
    #: where the data volume is mounted in the container; None: the service keeps no data
    data_path: str | None = None
    #: where the service's backup directory is mounted in the container (KeepsBackups);
    #: None: the service keeps no backups
    backup_path: str | None = None
    #: secret files: path in the container -> (file name in the run's secrets directory)
    secret_mounts: Mapping[str, str] = field(default_factory=dict)
    #: what the identity check must find (the data location the image uses)
    identity: Mapping[str, str] = field(default_factory=dict)
    #: environment of commands run inside the container (Exec); may hold secrets
    exec_env: Mapping[str, str] = field(default_factory=dict)
    #: the account commands run as inside the container
    exec_user: str | None = None
    #: what the report shows as the service's settings
    settings: Mapping[str, str] = field(default_factory=dict)
    #: a path in the container to put on a small file system of its own (the DiskFull
    #: fault; the data path itself, or beside it) and its size; None: none
    small_disk_path: str | None = None
    small_disk_bytes: int | None = None


@dataclass
class ComposeContext:
    """What the compose runtime gives a kind building a spec."""

    hostnet: bool
    secrets_dir: Path  # 0700, created by the runtime; every file in it is 0600
    #: the services built so far, in stack order: a service may use those listed before it
    services: Mapping[str, Service] = field(default_factory=dict)

    def ports(self, default_inner: int) -> tuple[int, int]:
        """(port on the host, port in the container) for a new service.

        With host networking the server itself listens on the free host port; with a
        bridge, on its usual port, published on 127.0.0.1 only.
        """
        host = free_port()
        return host, host if self.hostnet else default_inner

    def secret(self, file_name: str, content: str, owner: int | None = None) -> str:
        """Write a secret file (0600) into the run's secrets directory; returns its name.

        ``owner``: the uid that reads it in the container (as root only; else it stays ours).
        """
        path = self.secrets_dir / file_name
        write_private(path, content)
        if owner is not None and os.geteuid() == 0:
            os.chown(path, owner, owner)
        return file_name


def data_volume(service: str) -> str:
    """The compose name of a service's data volume (Compose prefixes the project)."""
    return f"{service}-data"
