"""Process faults: crash a server, or freeze it and let it go."""

from __future__ import annotations

from typing import cast

from drills.errors import FaultError
from drills.faults.base import Fault
from drills.record.action import Action
from drills.stack.capabilities import Killable, Pausable
from drills.stack.service import Service


class Kill(Fault):
    """SIGKILL the server and everything it started; done once the process is gone."""

    needs = (Killable,)

    def __init__(self, service: Service, confirm_timeout_s: float = 10.0) -> None:
        super().__init__(service, f"kill {service.name}")
        self.confirm_timeout_s = confirm_timeout_s

    def inject(self) -> Action:
        action = cast(Killable, self.target).kill()
        # the step ends only once the process is gone: until then a probe could still be
        # answered by the dying server
        if not self.target.wait_exit(self.confirm_timeout_s):
            raise FaultError(f"{self.service} still runs {self.confirm_timeout_s:.0f} s after "
                             f"{action.mechanism}")
        return action


class Freeze(Fault):
    """Suspend every process of the server; revert resumes them. No restart."""

    needs = (Pausable,)
    revertible = True

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"freeze {service.name}")

    def inject(self) -> Action:
        return cast(Pausable, self.target).freeze()

    def revert(self) -> Action:
        return cast(Pausable, self.target).thaw()

    @property
    def revert_name(self) -> str:
        return f"thaw {self.service}"
