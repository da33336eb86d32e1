"""A link: one proxied connection between two services, through Toxiproxy.

The app reaches PostgreSQL at the link's listen address; Toxiproxy forwards to the
server. Network faults act on a link (drills.faults.network), so "150 ms on the app to
PostgreSQL" touches nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from drills.network.toxiproxy import ToxiproxyApi


@dataclass(frozen=True)
class Link:
    """The proxy ``name`` on a Toxiproxy, carrying ``source``'s connections to ``target``."""

    api: ToxiproxyApi
    name: str  # the proxy's name in Toxiproxy
    source: str  # the service that connects (the app)
    target: str  # the service it reaches (postgres)
    listen_host: str
    listen_port: int
    upstream_host: str
    upstream_port: int
    proxy_service: str  # the Toxiproxy service that carries it

    @property
    def title(self) -> str:
        """For people: "app -> postgres"."""
        return f"{self.source} -> {self.target}"

    @property
    def listen(self) -> str:
        return f"{self.listen_host}:{self.listen_port}"

    @property
    def upstream(self) -> str:
        return f"{self.upstream_host}:{self.upstream_port}"

    def describe(self) -> dict[str, str]:
        return {"proxy": self.name, "from": self.source, "to": self.target,
                "listen": self.listen, "upstream": self.upstream, "via": self.proxy_service}
