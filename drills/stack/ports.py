"""Free loopback ports, picked at run time: other processes may hold nearby ones.

A server's port is picked below the kernel's ephemeral range
(``net.ipv4.ip_local_port_range``, 32768-60999 by default). A port the kernel hands out
as the source of outgoing connections (the load's, a client library's) could be taken
between the pick and the server's bind: it happened, a container's PostgreSQL found its
port in use. Below the range only a listener can take it, and the pick checks there is none.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

LOOPBACK = "127.0.0.1"
_LOWEST = 20000
_TRIES = 200
#: ports this process handed out: a stack picks all its ports before its servers bind
#: them, so a second pick must not return one of the first (it would bind fine)
_GIVEN: set[int] = set()
_LOCK = threading.Lock()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now, below the ephemeral range when there is room.

    The server's identity check covers the races that remain.
    """
    high = _ephemeral_low() - 1
    if high - _LOWEST >= 1000:
        pick = random.SystemRandom()
        for _ in range(_TRIES):
            port = pick.randint(_LOWEST, high)
            with _LOCK, socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if port in _GIVEN:
                    continue
                try:
                    sock.bind((host, port))
                except OSError:
                    continue
                _GIVEN.add(port)
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
