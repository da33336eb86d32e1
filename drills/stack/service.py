"""The service interface every runtime implements: one lifecycle for local and compose.

A service is one member of the stack (postgres, redis). Faults and recovery steps talk
to this interface only, so a scenario runs unchanged on any runtime.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from drills.clock import Instant
from drills.errors import DrillError, NotOurServer, ServiceNotReady


@dataclass(frozen=True)
class Endpoint:
    """How to reach a service. The password is per run and never printed."""

    kind: str  # postgres | redis
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
        """Serialised for a child process's environment (never argv)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, raw: str) -> Endpoint:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class Effect:
    """What an action on a service did: how, and the instant it took effect."""

    mechanism: str
    at: Instant


class Service(ABC):
    """One member of the stack, on some runtime."""

    name: str
    kind: str
    runtime: str
    endpoint: Endpoint

    @abstractmethod
    def start(self) -> None:
        """Start the server (first start initialises its data)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop politely; the data stays."""

    @abstractmethod
    def kill(self) -> Effect:
        """Crash the server at once (SIGKILL)."""

    @abstractmethod
    def freeze(self) -> Effect:
        """Suspend every process of the server (SIGSTOP / docker pause)."""

    @abstractmethod
    def thaw(self) -> Effect:
        """Resume a frozen server."""

    @abstractmethod
    def wait_exit(self, timeout: float) -> bool:
        """Wait until the server process is gone (reaped); False on timeout."""

    @abstractmethod
    def identify(self) -> Mapping[str, str]:
        """Prove this is our server: right user, database and data; raise if not."""

    @abstractmethod
    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log, for errors and the report."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Runtime facts for the journal: version, image, data location, endpoint."""

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.01) -> float:
        """Poll the identity check until it passes; returns seconds waited."""
        start = time.monotonic()
        last = "not checked yet"
        while True:
            try:
                self.identify()
                return time.monotonic() - start
            except NotOurServer:
                raise  # waiting longer cannot make someone else's server ours
            except DrillError as exc:
                last = str(exc)
            waited = time.monotonic() - start
            if waited >= timeout or not self.alive():
                raise ServiceNotReady(self.name, waited, last, self.log_tail())
            time.sleep(interval)

    @abstractmethod
    def alive(self) -> bool:
        """Whether the server process exists (it may still be starting)."""

    def restart(self, timeout: float = 30.0) -> None:
        """Start again after a crash or stop, and wait until ready."""
        self.start()
        self.wait_ready(timeout)
