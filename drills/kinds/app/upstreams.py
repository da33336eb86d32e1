"""How the app reaches its database and cache: through a Toxiproxy link each, or directly."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from drills.errors import StackError
from drills.kinds.app.settings import TABLE, AppSettings
from drills.stack.capabilities import CarriesLinks, require
from drills.stack.service import Service


@dataclass(frozen=True)
class Upstream:
    """One service the app uses, and the address the app is given for it."""

    service: Service
    host: str
    port: int


@dataclass(frozen=True)
class Upstreams:
    database: Upstream
    cache: Upstream
    #: a token the app reports in its health check: proof that it is the drill's app
    instance: str

    def environment(self) -> dict[str, str]:
        """The app's environment, without secrets (those go in files)."""
        db, cache = self.database, self.cache
        return {
            "APP_PG_HOST": db.host, "APP_PG_PORT": str(db.port),
            "APP_PG_USER": db.service.endpoint.user or "postgres",
            "APP_PG_DATABASE": db.service.endpoint.database or "postgres",
            "APP_REDIS_HOST": cache.host, "APP_REDIS_PORT": str(cache.port),
            "APP_TABLE": TABLE, "APP_INSTANCE": self.instance,
        }


def resolve(name: str, settings: AppSettings, services: Mapping[str, Service]) -> Upstreams:
    """The app's database and cache among the services built before it, linked if asked."""
    def used(role: str, service_name: str) -> Service:
        found = services.get(service_name)
        if found is None:
            raise StackError(f"service {name}: its {role} is service {service_name!r}, which "
                             f"the stack does not list before it (it lists: "
                             f"{', '.join(services) or 'nothing'})")
        return found

    database, cache = used("database", settings.database), used("cache", settings.cache)
    if settings.proxy is None:
        def reach(target: Service) -> Upstream:
            return Upstream(target, target.endpoint.host, target.endpoint.port)
    else:
        proxy = require(used("proxy", settings.proxy), CarriesLinks, f"route {name} through it")

        def reach(target: Service) -> Upstream:
            link = proxy.add_link(name, target)
            return Upstream(target, link.listen_host, link.listen_port)

    return Upstreams(reach(database), reach(cache), secrets.token_hex(8))
