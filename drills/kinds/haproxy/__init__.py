"""HAProxy: one address in front of Patroni members, forwarding to the one that leads.

settings.py   HaproxySettings: the members (backends) and the health check that picks one
config.py     haproxy.cfg: a TCP frontend, a server line per member, the stats page
server.py     HaproxyServer: the stats page (which member is up), identity, readiness
local.py      LocalHaproxy: haproxy in the foreground on free loopback ports
compose.py    the service from the ``haproxy`` template of docker-compose.drill.yml
store.py      the PostgreSQL data-store adapter, through the frontend
image/        the offline image drills/haproxy:2.6 (Debian's haproxy)

Its endpoint is the members' PostgreSQL endpoint at the frontend's address: a drill
loads, probes and reads back through it, and sees a failover as its clients would.
"""

from __future__ import annotations

from drills.kinds.base import ServiceKind
from drills.kinds.haproxy.settings import HaproxySettings

__all__ = ["KIND", "HaproxySettings"]


class HaproxyKind(ServiceKind):
    name = "haproxy"
    title = "HAProxy"
    settings_type = HaproxySettings
    default_image = "haproxy:2.6"
    driver_modules = ("psycopg",)


KIND = HaproxyKind()
