"""Free ports for the servers: below the kernel's ephemeral range, and bindable."""

import socket
from pathlib import Path

from drills.stack.ports import free_port


def test_free_ports_are_below_the_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    picked = [free_port() for _ in range(200)]
    assert len(set(picked)) == 200  # never the same port twice in a process
    ports = set(picked)
    assert all(20000 <= p < low for p in ports)
    with socket.socket() as sock:  # and free: a server can bind it
        sock.bind(("127.0.0.1", ports.pop()))
