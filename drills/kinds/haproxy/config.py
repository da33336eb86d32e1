"""haproxy.cfg for a frontend in front of Patroni members, and its stats page.

One TCP ``listen`` section named after the service: a server line per member, checked
with ``OPTIONS /<check>`` on the member's REST port: Patroni answers OPTIONS with the
status line alone, which is all HAProxy reads (to a GET it sends a JSON body too, and
logs a ConnectionResetError traceback when HAProxy closes before reading it: twice a
second per member). A second, HTTP ``listen`` section serves
the statistics page (CSV) drills reads to prove identity and to see which member is up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    """One member as HAProxy reaches it: its PostgreSQL address and its REST port."""

    name: str
    host: str
    port: int
    rest_port: int


def haproxy_cfg(name: str, host: str, port: int, stats_port: int, check: str,
                backends: Sequence[Backend]) -> str:
    """The configuration file's text."""
    servers = "".join(f"    server {b.name} {b.host}:{b.port} check port {b.rest_port}\n"
                      for b in backends)
    return (
        f"# drills: HAProxy {name} in front of {', '.join(b.name for b in backends)}\n"
        "global\n"
        "    maxconn 512\n"
        "\n"
        "defaults\n"
        "    mode tcp\n"
        "    timeout connect 2s\n"
        "    timeout client 30m\n"
        "    timeout server 30m\n"
        "    timeout check 1s\n"
        "\n"
        "listen stats\n"
        "    mode http\n"
        f"    bind {host}:{stats_port}\n"
        "    stats enable\n"
        "    stats uri /stats\n"
        "\n"
        f"listen {name}\n"
        f"    bind {host}:{port}\n"
        f"    option httpchk OPTIONS /{check}\n"
        "    http-check expect status 200\n"
        "    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions\n"
        f"{servers}"
    )
