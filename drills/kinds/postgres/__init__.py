"""PostgreSQL: settings, local server, compose service, data-store adapter, offline image.

settings.py   PostgresSettings
local.py      LocalPostgres: initdb with data checksums, supervised postmaster
compose.py    the service from the ``postgres`` template of docker-compose.drill.yml
store.py      psycopg: the workload table, probe, read-back, identity (imported lazily)
scratch.py    a scratch local server for a backup job's restore rehearsal (verify: restore)
image/        the offline image drills/postgres:15 (drills/images/build.sh)
"""

from __future__ import annotations

from collections.abc import Mapping

from drills.kinds.base import ServiceKind
from drills.kinds.postgres.settings import PostgresSettings

__all__ = ["KIND", "PostgresSettings"]


class PostgresKind(ServiceKind):
    name = "postgres"
    title = "PostgreSQL"
    settings_type = PostgresSettings
    default_image = "postgres:15"
    plan_builtin = True
    ledger = "tables drill_writes and drill_probe"
    reach_needs = ("user", "database")
    backup_methods = ("pg_dump", "base_backup")
    check_language = "sql"
    rehearses_restore = True
    plan_replication = ("replica_of", "synchronous_standby_names")
    def override_args(self, overrides: Mapping[str, str]) -> list[str]:
        return [arg for key, value in overrides.items() for arg in ("-c", f"{key}={value}")]

    driver_modules = ("psycopg",)


KIND = PostgresKind()
