"""A server lost with its network: SIGKILL, then every link to it cut at once.

A killed process takes no packet back, but a Toxiproxy link in front of it may still
hold bytes it has delayed (a latency toxic): WAL the dead primary sent but its replica
has not yet received. A real server loss loses those too, so the links are cut
(disabled: open connections closed, what they held dropped) right after the kill. The
fault took effect at the kill (t_fault); the cut follows within the API's answer time,
recorded beside it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import cast

from drills.errors import FaultError
from drills.faults.base import Fault
from drills.network.link import Link
from drills.record.action import Action
from drills.stack.capabilities import Killable
from drills.stack.service import Service


class KillAndCut(Fault):
    """SIGKILL ``service``, then disable every link in ``links``; not reverted."""

    needs = (Killable,)

    def __init__(self, service: Service, links: Sequence[Link],
                 confirm_timeout_s: float = 10.0) -> None:
        super().__init__(service, f"lose {service.name} with its links")
        if not links:
            raise FaultError(f"lose {service.name} with its links: no link given")
        self.links = tuple(links)
        self.confirm_timeout_s = confirm_timeout_s

    def inject(self) -> Action:
        killed = cast(Killable, self.target).kill()
        for link in self.links:
            link.api.set_enabled(link.name, False)
        cut_ms = (time.monotonic() - killed.at.mono) * 1000
        if not self.target.wait_exit(self.confirm_timeout_s):
            raise FaultError(f"{self.service} still runs {self.confirm_timeout_s:.0f} s after "
                             f"{killed.mechanism}")
        names = ", ".join(link.title for link in self.links)
        return Action(f"{killed.mechanism}; then Toxiproxy disabled {names} (what the links "
                      "still held is dropped)", killed.at,
                      {**killed.facts, "links_cut": [link.describe() for link in self.links],
                       "cut_after_kill_ms": round(cut_ms, 2)})
