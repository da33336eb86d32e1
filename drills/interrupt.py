"""Ctrl-C and SIGTERM that cannot be lost.

Python delivers a signal as a ``KeyboardInterrupt`` raised wherever the main thread happens
to be. When that is a finaliser or a ``logging`` lock release, Python prints "Exception
ignored" and carries on, and the drill would run to its end as if nobody had asked it to
stop (seen once in CI: a SIGINT mid-restore, exit 0). So the handler also remembers the
signal; the drill checks at each phase and between scenarios, and the command exits 130
whatever became of the exception.
"""

from __future__ import annotations

import signal
from types import FrameType

_received: int | None = None


def install() -> None:
    """Handle SIGINT and SIGTERM in this process (the main thread only, as Python requires)."""
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def _handler(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = signum
    raise KeyboardInterrupt(f"signal {signum}")


def received() -> int | None:
    """The first signal number received, if any."""
    return _received


def check() -> None:
    """Raise ``KeyboardInterrupt`` again if a signal came, in case its first one was lost."""
    if _received is not None:
        raise KeyboardInterrupt(f"signal {_received} (raised again)")
