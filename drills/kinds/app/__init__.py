"""The reference app: an HTTP API with PostgreSQL as its system of record and Redis as a cache.

refapp.py     the app itself: one file, no import from drills (the system under drill)
settings.py   AppSettings: the database, cache and Toxiproxy services it uses
upstreams.py  how the app reaches them: through Toxiproxy links, or directly
local.py      LocalApp: refapp.py run by this Python (its venv has aiohttp, psycopg, redis)
compose.py    the service from the ``app`` template of docker-compose.drill.yml
store.py      the drill's view: the probe over HTTP; its writes are read back from its database
image/        the offline image drills/app:1 (Debian's python3-aiohttp, -psycopg, -redis)

The workload reaches the app over HTTP through Locust's FastHttpUser (``serves_http``).
"""

from __future__ import annotations

from collections.abc import Mapping

from drills.errors import StackError
from drills.kinds.app.settings import AppSettings
from drills.kinds.base import ServiceKind

__all__ = ["KIND", "AppSettings"]


class AppKind(ServiceKind):
    name = "app"
    title = "reference app"
    settings_type = AppSettings
    #: no registry has it: `drill images build` makes it from image/ (users: their own app)
    default_image = "drills/app:1"
    driver_modules = ()
    serves_http = True
    plan_builtin = True

    def plan_settings(self, name: str, stack: Mapping[str, str]) -> AppSettings:
        """The app in front of the plan's first PostgreSQL and Redis, reached directly."""
        database = next((n for n, k in stack.items() if k == "postgres"), None)
        cache = next((n for n, k in stack.items() if k == "redis"), None)
        if database is None or cache is None:
            raise StackError(f"{name}: the reference app needs a postgres and a redis service "
                             "in the same stack (its database and its cache)")
        return AppSettings(database=database, cache=cache, proxy=None)


KIND = AppKind()
