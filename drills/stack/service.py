"""The service lifecycle every runtime implements, for every kind.

A service is one member of the stack. Its lifecycle (start, stop, ready, identity, log,
description) is the same on every runtime; what else it can suffer is an optional
capability (drills.stack.capabilities): faults and recovery steps ask for those, so a
scenario runs unchanged wherever its services offer what it needs.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from drills.errors import DrillError, NotOurServer, ServiceNotReady, StackError, printable
from drills.stack.endpoint import Endpoint

__all__ = ["Endpoint", "Service", "check_name"]

#: a service name: also a directory name (local) and a Compose service name (compose)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_name(name: object) -> None:
    """Refuse a service name no runtime can use, saying what is allowed."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise StackError(f"service name {printable(repr(name))} cannot be used: use 1 to 63 "
                         "lower-case letters, digits, '-' and '_', starting with a letter or "
                         "digit")


class Service(ABC):
    """One member of the stack, on some runtime."""

    name: str
    kind: str
    runtime: str
    endpoint: Endpoint

    @abstractmethod
    def start(self) -> None:
        """Start the server (a first start initialises its data)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop politely; the data stays."""

    @abstractmethod
    def wait_exit(self, timeout: float) -> bool:
        """Wait until the server process is gone (reaped, or its container removed)."""

    @abstractmethod
    def identify(self) -> Mapping[str, str]:
        """Prove this is our server: right user, database and data; raise if not."""

    @abstractmethod
    def alive(self) -> bool:
        """Whether the server process exists (it may still be starting)."""

    @abstractmethod
    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log, for errors and the report."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Runtime facts for the journal: version, image, data location, endpoint."""

    def supports(self, capability: type) -> bool:
        """Whether this service offers ``capability`` (a protocol of drills.stack.capabilities)."""
        return isinstance(self, capability)

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
                hint = self.unready_hint(last)
                raise ServiceNotReady(self.name, waited, f"{last}. {hint}" if hint else last,
                                      self.log_tail())
            time.sleep(interval)

    def unready_hint(self, last: str) -> str:
        """What to check when the service never got ready, given its last error."""
        return ""

    def restart(self, timeout: float = 30.0) -> None:
        """Start again after a crash or stop, and wait until ready."""
        self.start()
        self.wait_ready(timeout)
