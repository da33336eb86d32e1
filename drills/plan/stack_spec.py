"""The ``stack`` section of a version 2 plan: the team's services and how to reach them.

Either drills' own built-in servers (no ``compose``: the runtime brings them up, as for
the built-in scenarios), or the team's own compose file(s), which drills brings up as a
Compose project of its own (``drills-<run id>``), so that clean-up and safety work as for
its own servers. Secrets are references (an environment variable or a file), never text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.errors import UsageError, printable

#: ``stack.allow`` names: one per setting of a team's compose file that gives a container the
#: host (drills.runtime.compose_policy refuses each unless the plan allows it for the service)
ALLOW_NAMES: Mapping[str, str] = {
    "privileged": "privileged: true",
    "pid_host": "pid: host (or container:<other>)",
    "ipc_host": "ipc: host (or container:<other>)",
    "uts_host": "uts: host",
    "cgroup_host": "cgroup: host",
    "userns_host": "userns_mode: host",
    "network_container": "network_mode: container:<other>",
    "volumes_from": "volumes_from",
    "cap_add": "cap_add (any capability)",
    "security_opt": "security_opt (any but no-new-privileges)",
    "devices": "devices, device_cgroup_rules, gpus",
    "host_path": "a bind (or a driver_opts bind volume) of a host path outside the project "
                 "directory or of the host's own /, /etc, /proc, /sys, /dev, /run, /root, "
                 "/home...",
    "host_secret": "a compose secret or config read from a file outside the project directory",
    "engine_socket": "a bind of the engine's socket or of a directory holding it",
}


@dataclass(frozen=True)
class SecretRef:
    """Where a secret comes from at run time: ``{env: NAME}`` or ``{file: path}``."""

    env: str | None = None
    file: Path | None = None

    def resolve(self, what: str) -> str:
        """The secret's value; UsageError naming ``what`` and the source if it is missing."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise UsageError(f"{what}: environment variable {self.env} is not set; "
                                 f"export it before the drill (the plan names it)")
            return value
        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise UsageError(f"{what}: cannot read the secret file "
                             f"{printable(self.file, 300)}: {exc.strerror}") from None

    def describe(self) -> str:
        return f"env {self.env}" if self.env is not None else f"file {self.file}"


@dataclass(frozen=True)
class Reach:
    """How drills reaches a service: host and port (with credentials), or a base URL."""

    host: str | None = None
    port: int | str | None = None  # text: with ${VAR:-default}, resolved at run time
    user: str | None = None
    database: str | None = None
    password: SecretRef | None = None
    url: str | None = None
    #: how the client logs in, where the kind knows several ways (MongoDB: ``PLAIN``)
    auth: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "user": self.user,
                "database": self.database,
                "password": self.password.describe() if self.password else None,
                "url": self.url, "auth": self.auth}


@dataclass(frozen=True)
class HealthCheck:
    """A health check: an HTTP request answered with a status, or a command that exits 0."""

    url: str | None = None
    method: str = "GET"
    status: int = 200
    command: tuple[str, ...] = ()
    timeout_s: float = 2.0

    def describe(self) -> str:
        if self.url is not None:
            return f"{self.method} {self.url} answers {self.status}"
        return f"`{' '.join(self.command)}` exits 0"

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "method": self.method, "status": self.status,
                "command": list(self.command), "timeout_s": self.timeout_s}


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the plan's stack."""

    name: str
    #: a registered kind (postgres, redis, app...) or ``http``: reached by URL only
    kind: str
    reach: Reach | None = None
    health: HealthCheck | None = None
    #: replication settings of the kind's own (``replica_of``, PostgreSQL's
    #: ``synchronous_standby_names``): drills.kinds.base.ServiceKind.plan_replication
    replication: Mapping[str, str] = field(default_factory=dict)

    @property
    def replica_of(self) -> str | None:
        """The service this one is a streaming replica of; None: not a replica."""
        return self.replication.get("replica_of")

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "kind": self.kind,
               "reach": self.reach.to_dict() if self.reach else None,
               "health": self.health.to_dict() if self.health else None}
        if self.replication:  # only then: other plans' records keep their digest
            out["replication"] = dict(self.replication)
        return out


@dataclass(frozen=True)
class StackSpec:
    """The stack a version 2 plan drills."""

    services: Mapping[str, ServiceSpec]
    #: the team's compose files (absolute); empty: drills' own built-in servers
    compose_files: tuple[Path, ...] = ()
    #: the directory relative paths of the compose files resolve against (the plan's)
    project_dir: Path | None = None
    #: procedures run once the stack is up, before any load (migrations, the team's data)
    setup: tuple[str, ...] = ()
    #: ``stack.allow``: per service of the compose project, the host access it may have
    allow: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def own(self) -> bool:
        """Whether the stack is the team's compose project (else drills' own servers)."""
        return bool(self.compose_files)

    def replicas_of(self, primary: str) -> tuple[str, ...]:
        """The services that are streaming replicas of ``primary``, in the plan's order."""
        return tuple(n for n, s in self.services.items() if s.replica_of == primary)

    def primary_of(self, service: str) -> str:
        """The primary of ``service``'s replication group (itself when it is no replica)."""
        return self.services[service].replica_of or service

    def to_dict(self) -> dict[str, Any]:
        return {"compose_files": [str(p) for p in self.compose_files],
                "project_dir": str(self.project_dir) if self.project_dir else None,
                "services": {n: s.to_dict() for n, s in self.services.items()},
                "setup": list(self.setup),
                "allow": {n: list(a) for n, a in self.allow.items()}}
