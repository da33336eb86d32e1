"""Toxiproxy settings: none yet; its links are added by the services that use it."""

from __future__ import annotations

from dataclasses import dataclass

from drills.kinds.base import ServiceSettings


@dataclass(frozen=True)
class ToxiproxySettings(ServiceSettings):
    """A Toxiproxy server; the app's settings name it to route its connections through it."""

    def conf(self) -> dict[str, str]:
        return {}
