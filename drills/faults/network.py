"""Network faults on one link (drills.network.link): Toxiproxy toxics, always reverted.

Each fault acts on one link only (the app to PostgreSQL, say), takes effect when
Toxiproxy applies it, and is undone by the drill in ``finally``. The instant recorded as
t_fault is when the request left for Toxiproxy; the API's answer, a millisecond or so
later on loopback, is recorded beside it (``api_ms``).

Latency       every answer from the target delayed by ``ms`` (+/- ``jitter_ms``)
Bandwidth     the link carries at most ``kb_per_s`` KB/s each way
Partition     ``down``: the proxy refuses new connections and closes the open ones (a host
              that is gone); ``timeout``: every byte is dropped both ways and connections
              stay open (a black hole: the client learns nothing until its own timeout)
ResetPeer     every connection reset (TCP RST) after ``after_ms``
SlowClose     closing a connection delayed by ``delay_ms``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from drills.faults.base import Fault
from drills.network.link import Link
from drills.network.toxiproxy import Toxic
from drills.record.action import Action
from drills.record.clock import Instant


class LinkFault(Fault):
    """A fault on one link; revertible, as every network fault is."""

    revertible = True

    def __init__(self, link: Link, name: str) -> None:  # no service capability to check
        self.link = link
        self.name = f"{name} on {link.title}"

    @property
    def service(self) -> str:
        return self.link.title

    def _timed(self, mechanism: str, call: Callable[[], None], **facts: object) -> Action:
        at = Instant.now()
        call()
        api_ms = (time.monotonic() - at.mono) * 1000
        return Action(mechanism, at, {"link": self.link.describe(), "api_ms": round(api_ms, 2),
                                      **facts})


class ToxicFault(LinkFault):
    """A fault made of toxics added to the link's proxy, removed on revert."""

    def __init__(self, link: Link, name: str, toxics: list[Toxic]) -> None:
        super().__init__(link, name)
        self.toxics = toxics

    def inject(self) -> Action:
        def add() -> None:
            for toxic in self.toxics:
                self.link.api.add_toxic(self.link.name, toxic)

        described = ", ".join(f"{t.type} {t.stream} {t.attributes}" for t in self.toxics)
        return self._timed(f"Toxiproxy toxic {described} on proxy {self.link.name}", add,
                           toxics=[t.to_json() for t in self.toxics])

    def revert(self) -> Action:
        def remove() -> None:
            for toxic in self.toxics:
                self.link.api.remove_toxic(self.link.name, toxic.name)

        return self._timed(f"Toxiproxy toxics removed from proxy {self.link.name}", remove)

    @property
    def revert_name(self) -> str:
        return f"end {self.name}"


class Latency(ToxicFault):
    def __init__(self, link: Link, ms: int, jitter_ms: int = 0) -> None:
        super().__init__(link, f"latency {ms} ms" + (f" +/- {jitter_ms} ms" if jitter_ms else ""),
                         [Toxic("drills-latency", "latency",
                                {"latency": int(ms), "jitter": int(jitter_ms)})])


class Bandwidth(ToxicFault):
    def __init__(self, link: Link, kb_per_s: int) -> None:
        super().__init__(link, f"bandwidth {kb_per_s} KB/s",
                         [Toxic(f"drills-bandwidth-{stream}", "bandwidth", {"rate": int(kb_per_s)},
                                stream) for stream in ("upstream", "downstream")])


class ResetPeer(ToxicFault):
    def __init__(self, link: Link, after_ms: int = 0) -> None:
        super().__init__(link, "connection reset" + (f" after {after_ms} ms" if after_ms else ""),
                         [Toxic("drills-reset-peer", "reset_peer", {"timeout": int(after_ms)},
                                "upstream")])


class SlowClose(ToxicFault):
    def __init__(self, link: Link, delay_ms: int) -> None:
        super().__init__(link, f"slow close {delay_ms} ms",
                         [Toxic("drills-slow-close", "slow_close", {"delay": int(delay_ms)})])


class Partition(LinkFault):
    """The link cut: ``down`` (refused, like a host that is gone) or ``timeout`` (a black hole)."""

    def __init__(self, link: Link, kind: Literal["down", "timeout"] = "down") -> None:
        if kind not in ("down", "timeout"):
            raise ValueError(f"partition kind {kind!r}: use 'down' or 'timeout'")
        super().__init__(link, f"partition ({kind})")
        self.kind = kind
        #: the black hole: timeout toxics (0: never close) both ways
        self._hole = ToxicFault(link, self.name, [
            Toxic(f"drills-black-hole-{stream}", "timeout", {"timeout": 0}, stream)
            for stream in ("upstream", "downstream")])

    def inject(self) -> Action:
        api, proxy = self.link.api, self.link.name
        if self.kind == "down":
            return self._timed(f"Toxiproxy proxy {proxy} disabled: new connections refused, "
                               "open ones closed", lambda: api.set_enabled(proxy, False),
                               partition="down")
        done = self._hole.inject()
        return Action(f"Toxiproxy timeout toxics (timeout 0) both ways on proxy {proxy}: "
                      "every byte dropped, connections left open", done.at,
                      {**done.facts, "partition": "timeout"})

    def revert(self) -> Action:
        api, proxy = self.link.api, self.link.name
        if self.kind == "down":
            return self._timed(f"Toxiproxy proxy {proxy} enabled again",
                               lambda: api.set_enabled(proxy, True))
        done = self._hole.revert()
        return Action(f"Toxiproxy timeout toxics removed from proxy {proxy}", done.at, done.facts)

    @property
    def revert_name(self) -> str:
        return f"heal the partition of {self.link.title}"
