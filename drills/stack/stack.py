"""A stack: the services of one drill, brought up together and always torn down."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Protocol

from drills.stack.service import Service

log = logging.getLogger(__name__)


class Runtime(Protocol):
    """What brings services up: ``local`` processes or ``compose`` containers."""

    name: str

    def services(self, wanted: Mapping[str, Any]) -> dict[str, Service]:
        """Create (not start) one service per name -> settings."""
        ...

    def close(self) -> None:
        """Remove everything this runtime created for the run; a second call does nothing."""
        ...

    def describe(self) -> dict[str, Any]:
        ...


class Stack:
    """The services under drill, keyed by their names in the drill."""

    def __init__(self, runtime: Runtime, services: Mapping[str, Service]) -> None:
        self.runtime = runtime
        self._services = dict(services)

    def __getitem__(self, name: str) -> Service:
        try:
            return self._services[name]
        except KeyError:
            raise KeyError(f"no service {name!r} in this stack; it has: "
                           f"{', '.join(self._services)}") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._services)

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services.values())

    def up(self, timeout: float = 60.0) -> None:
        """Start every service and wait until each proves its identity."""
        for service in self:
            service.start()
        for service in self:
            service.wait_ready(timeout)

    def close(self) -> list[str]:
        """Stop every service and remove what the runtime created; never raises.

        Services stop in the reverse of their order (the app before the stores it uses).
        Returns what went wrong, for the record (it is logged too).
        """
        problems = []
        for service in reversed(list(self)):
            try:
                service.stop()
            except Exception as exc:  # clean-up must go on; the original error matters more
                log.exception("stopping %s failed", service.name)
                problems.append(f"stopping {service.name}: {type(exc).__name__}: {exc}")
        try:
            self.runtime.close()
        except Exception as exc:
            log.exception("closing the %s runtime failed", self.runtime.name)
            problems.append(f"closing the {self.runtime.name} runtime: {exc}")
        return problems

    def __enter__(self) -> Stack:
        try:
            self.up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
