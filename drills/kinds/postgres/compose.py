"""PostgreSQL under the compose runtime: its service from the ``postgres`` template.

The password reaches the server by the official image's ``POSTGRES_PASSWORD_FILE``
convention (a 0600 file mounted read-only), never through the container's environment,
where ``docker inspect`` would show it.
"""

from __future__ import annotations

import secrets

from drills.kinds.postgres.settings import PostgresSettings, archive_conf
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK

DATA_PATH = "/var/lib/postgresql/data"  # PGDATA of the official image
PASSWORD_PATH = "/run/secrets/postgres-password"  # POSTGRES_PASSWORD_FILE in the template
BACKUP_PATH = "/backups"  # the service's backup directory, outside its data volume


def compose_spec(name: str, settings: PostgresSettings, ctx: ComposeContext) -> ComposeSpec:
    port, inner = ctx.ports(5432)
    password = secrets.token_urlsafe(24)
    secret = ctx.secret(f"{name}-password", password + "\n")
    conf = {"listen_addresses": LOOPBACK if ctx.hostnet else "*", **settings.conf(),
            **archive_conf(settings, BACKUP_PATH)}
    command = ["postgres"]
    for key, value in conf.items():
        command += ["-c", f"{key}={value.strip(chr(39))}"]
    return ComposeSpec(
        endpoint=Endpoint("postgres", LOOPBACK, port, password, "drills", "drills"),
        container_port=inner,
        environment={"PGPORT": str(inner)},
        command=command,
        data_path=DATA_PATH,
        backup_path=BACKUP_PATH,
        secret_mounts={PASSWORD_PATH: secret},
        identity={"data_directory": DATA_PATH},
        # over the unix socket, where the image trusts local connections: no password
        exec_env={"PGHOST": "/var/run/postgresql", "PGPORT": str(inner), "PGUSER": "drills",
                  "PGDATABASE": "drills"},
        exec_user="postgres",
        settings=conf,
    )
