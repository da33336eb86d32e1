"""Storage faults a restart cannot fake: a power cut (LazyFS) and a full disk.

A SIGKILL leaves the kernel's page cache intact, so a write the server handed to the OS
without fsync survives it; a power cut loses it. ``PowerLoss`` kills every process of the
server, waits until they are gone, then has LazyFS drop every write not fsynced
(``lazyfs::clear-cache``); the recovery steps are a crash's (a restart). The Action
records what LazyFS answered.
"""

from __future__ import annotations

from typing import cast

from drills.faults.base import Fault
from drills.record.action import Action
from drills.stack.capabilities import FillsDisk, LosesPower
from drills.stack.service import Service


class PowerLoss(Fault):
    """A power cut: every process killed, then every write not fsynced dropped."""

    needs = (LosesPower,)

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"power loss on {service.name}")

    def inject(self) -> Action:
        return cast(LosesPower, self.target).cut_power()


class DiskFull(Fault):
    """The server's small disk (its WAL or data) filled until a write gets ENOSPC.

    t_fault is when the disk is full. The recovery frees the space
    (drills.recovery.storage.FreeDisk); how the server behaves meanwhile (PostgreSQL
    PANICs when it cannot write WAL, Redis refuses writes when its AOF cannot grow) is
    what the drill measures, with whether acknowledged writes survived.
    """

    needs = (FillsDisk,)

    def __init__(self, service: Service) -> None:
        super().__init__(service, f"fill the disk of {service.name}")

    def inject(self) -> Action:
        return cast(FillsDisk, self.target).fill_disk()
