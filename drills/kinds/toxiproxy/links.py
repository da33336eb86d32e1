"""The links a Toxiproxy carries: planned when the stack is built, created once it answers.

A service routed through Toxiproxy (the app) asks for its links while the stack is being
built, so that it can be configured with their listen addresses before anything starts.
The proxies themselves are created when Toxiproxy is ready (and again after a restart of
it); at its stop every toxic is removed and every proxy deleted, so no proxy state
outlives the drill, whatever the runtime does with the server afterwards.
"""

from __future__ import annotations

import logging

from drills.errors import StackError
from drills.network.link import Link
from drills.network.toxiproxy import ToxiproxyApi
from drills.stack.ports import LOOPBACK, free_port
from drills.stack.service import Service

log = logging.getLogger(__name__)


class ProxyLinks(Service):
    """A Toxiproxy service: its REST API, and the links it carries (CarriesLinks)."""

    _links: dict[str, Link]

    @property
    def api(self) -> ToxiproxyApi:
        return ToxiproxyApi(self.endpoint.host, self.endpoint.port)

    def add_link(self, source: str, target: Service) -> Link:
        """Plan a link from service ``source`` to ``target``; it exists once this is ready."""
        name = f"{source}-{target.name}"
        if name in self._links:
            raise StackError(f"{self.name}: a link from {source} to {target.name} exists")
        link = Link(self.api, name, source, target.name, LOOPBACK, free_port(),
                    target.endpoint.host, target.endpoint.port, self.name)
        self._links[name] = link
        return link

    def link(self, source: str, target: str) -> Link:
        """The link from service ``source`` to service ``target``."""
        found = self._links.get(f"{source}-{target}")
        if found is None:
            have = ", ".join(link.title for link in self._links.values()) or "none"
            raise StackError(f"{self.name} carries no link from {source} to {target} "
                             f"(it carries: {have})")
        return found

    def links(self) -> tuple[Link, ...]:
        return tuple(self._links.values())

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.01) -> float:
        """Wait until the API answers, then create every planned link that is missing."""
        waited = super().wait_ready(timeout, interval)
        existing = self.api.proxies()
        for link in self._links.values():
            if link.name not in existing:
                self.api.create_proxy(link.name, link.listen, link.upstream)
        return waited

    def release_links(self) -> None:
        """Remove every toxic and delete every proxy of ours; a server already gone is fine."""
        if not self._links or not self.alive():
            return
        try:
            self.api.reset()
            existing = self.api.proxies()
            for link in self._links.values():
                if link.name in existing:
                    self.api.delete_proxy(link.name)
        except StackError as exc:  # stopping goes on; the server is stopped next anyway
            log.warning("%s: could not remove its proxies before stopping: %s", self.name, exc)

    def identify(self) -> dict[str, str]:
        version = self.api.version()
        return {"version": version}

    def describe_links(self) -> list[dict[str, str]]:
        return [link.describe() for link in self._links.values()]
