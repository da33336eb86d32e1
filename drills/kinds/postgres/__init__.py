"""PostgreSQL: settings, local server, compose service, data-store adapter, offline image.

settings.py   PostgresSettings
local.py      LocalPostgres: initdb with data checksums, supervised postmaster
compose.py    the service from the ``postgres`` template of docker-compose.drill.yml
store.py      psycopg: the workload table, probe, read-back, identity (imported lazily)
image/        the offline image drills/postgres:15 (drills/images/build.sh)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from drills.kinds.base import ServiceKind, ServiceSettings
from drills.kinds.postgres.settings import PostgresSettings

if TYPE_CHECKING:
    from drills.stack.compose_spec import ComposeContext, ComposeSpec
    from drills.stack.local import LocalContext
    from drills.stack.service import Service

__all__ = ["KIND", "PostgresSettings"]


class PostgresKind(ServiceKind):
    name = "postgres"
    title = "PostgreSQL"
    settings_type = PostgresSettings
    default_image = "postgres:15"
    driver_modules = ("psycopg",)

    def local(self, name: str, settings: ServiceSettings, ctx: LocalContext) -> Service:
        from drills.kinds.postgres.local import LocalPostgres

        assert isinstance(settings, PostgresSettings)
        return LocalPostgres(name, settings, ctx)

    def compose(self, name: str, settings: ServiceSettings, ctx: ComposeContext) -> ComposeSpec:
        from drills.kinds.postgres.compose import compose_spec

        assert isinstance(settings, PostgresSettings)
        return compose_spec(name, settings, ctx)

    def local_servers(self) -> Mapping[str, Any]:
        from drills.kinds.postgres.local import postgres_bindir

        return {"bindir": str(postgres_bindir())}


KIND = PostgresKind()
