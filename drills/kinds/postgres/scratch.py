"""A scratch PostgreSQL for a restore rehearsal: a local process, gone when the rehearsal ends.

It is made by the local runtime (drills.runtime.local), whatever runtime the drill uses: its
own directory ``drills-<run id>-*`` with the owner record, its process recorded there, so
that Ctrl-C (teardown in ``finally``; the server dies with the drill) and ``drill clean``
find it like every other server of the run. It answers as the user and database the job's
service has (a superuser, as the official image's POSTGRES_USER is), so the team's restore
procedure and checks run unchanged against it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from drills.errors import DrillError, StackError
from drills.kinds.postgres.settings import PostgresSettings
from drills.stack.endpoint import Endpoint
from drills.stack.service import Service
from drills.stack.stack import Runtime

log = logging.getLogger(__name__)

#: the user and database every local PostgreSQL of drills starts with (initdb -U drills)
ADMIN = "drills"


def _as_team(endpoint: Endpoint, user: str, database: str) -> Endpoint:
    """Create the team's role (superuser) and database; the endpoint that reaches them."""
    if user == ADMIN and database == ADMIN:
        return endpoint
    import psycopg
    from psycopg import sql

    from drills.kinds.postgres.store import connect

    password = endpoint.password if user == ADMIN else secrets.token_urlsafe(24)
    try:
        with connect(endpoint, timeout_s=10) as conn:
            conn.autocommit = True
            if user != ADMIN:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                    sql.Identifier(user), sql.Literal(password)))
            if database != ADMIN:
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(user)))
    except psycopg.Error as exc:
        raise StackError(f"scratch server: cannot create role {user} and database "
                         f"{database}: {str(exc).strip()}") from exc
    return replace(endpoint, user=user, database=database, password=password)


@contextmanager
def scratch_postgres(runtime: Runtime, name: str, user: str | None,
                     database: str | None, timeout_s: float = 60.0) -> Iterator[Service]:
    """A started, empty PostgreSQL whose ``endpoint`` is the team's user and database.

    ``runtime``: a new local runtime of the run's (drills.runtime.local.LocalRuntime),
    closed here at the end. StackError when the server cannot be made here (no server
    binaries, it never answered).
    """
    server: Service | None = None
    try:
        server = runtime.services({name: PostgresSettings()})[name]
        server.start()
        server.wait_ready(timeout_s)
        server.endpoint = _as_team(server.endpoint, user or ADMIN, database or ADMIN)
        yield server
    finally:
        try:
            if server is not None:
                server.stop()
        finally:
            try:
                runtime.close()
            except DrillError:  # what it left is logged; the rehearsal's own result stands
                log.exception("removing the scratch server %s", name)
