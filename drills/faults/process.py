"""Process faults: crash a server, or freeze it and let it go."""

from __future__ import annotations

from drills.errors import FaultError
from drills.faults.base import Fault, Injected
from drills.stack.service import Service


class Kill(Fault):
    """SIGKILL the server and everything it started; done once the process is gone."""

    def __init__(self, service: Service, confirm_timeout_s: float = 10.0) -> None:
        self.target = service
        self.service = service.name
        self.name = f"kill {service.name}"
        self.confirm_timeout_s = confirm_timeout_s

    def inject(self) -> Injected:
        effect = self.target.kill()
        # the step ends only once the process is gone: until then a probe could still be
        # answered by the dying server
        if not self.target.wait_exit(self.confirm_timeout_s):
            raise FaultError(f"{self.service} still runs {self.confirm_timeout_s:.0f} s after "
                             f"{effect.mechanism}")
        return Injected(effect.mechanism, effect.at)


class Freeze(Fault):
    """SIGSTOP every process of the server; revert sends SIGCONT. No restart."""

    revertible = True

    def __init__(self, service: Service) -> None:
        self.target = service
        self.service = service.name
        self.name = f"freeze {service.name}"

    def inject(self) -> Injected:
        effect = self.target.freeze()
        return Injected(effect.mechanism, effect.at)

    def revert(self) -> Injected:
        effect = self.target.thaw()
        return Injected(effect.mechanism, effect.at)

    @property
    def revert_name(self) -> str:
        return f"thaw {self.service}"
