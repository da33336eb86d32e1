"""MongoDB under the compose runtime: its service from the ``mongodb`` template.

The root user ``drills`` and its password reach the server by the official image's
``MONGO_INITDB_ROOT_PASSWORD_FILE`` convention, never through the container's environment:
the run's 0600 file is mounted read-only, and the template's entrypoint copies it, as root,
to a tmpfs readable by the image's mongodb account (uid 999) alone, as the redis template
does, so that it works whichever user runs drills.

Two images keep that contract. The official ``mongo:7`` runs mongod with ``--auth``: clients
log in with SCRAM against ``admin`` (the driver's default). drills' offline
``drills/mongodb:ferretdb-1.24`` (image/) runs FerretDB over a PostgreSQL of its own:
clients log in with PLAIN, which FerretDB hands on to PostgreSQL, and the write concern is
ignored, so ``j=false`` turns PostgreSQL's ``synchronous_commit`` off instead (as the local
runtime does). Which one runs is read from the image's label ``io.drills.mongodb-auth``
when the engine has the image, else from its name.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from drills.errors import StackError
from drills.kinds.mongodb import KIND
from drills.kinds.mongodb.settings import MongoSettings
from drills.stack.compose_service import ComposeService
from drills.stack.compose_spec import ComposeContext, ComposeSpec
from drills.stack.endpoint import Endpoint
from drills.stack.ports import LOOPBACK

DATA_PATH = "/data/db"  # the official image's volume
PASSWORD_PATH = "/run/secrets/mongodb-password"  # copied by the template's entrypoint
#: the image label that names the login mechanism of a stand-in (drills' FerretDB image)
AUTH_LABEL = "io.drills.mongodb-auth"
#: the label of the stand-in image that names its server (FerretDB and its version)
SERVER_LABEL = "io.drills.mongodb-server"
#: the stand-in's PostgreSQL: its socket directory and the database FerretDB keeps all in
STANDIN_SOCKET_DIR = "/run/ferretdb"
STANDIN_DATABASE = "ferretdb"


def image_auth(image: str) -> str | None:
    """How clients of ``image`` log in: ``PLAIN`` (drills' FerretDB) or None (mongod, SCRAM).

    The image's label says, when the engine answers and has the image; else its name does
    (drills' offline image), so that a spec can be built without Docker.
    """
    try:
        from drills.stack import engine

        client = engine.client(timeout=3)
    except StackError:
        client = None
    if client is not None:
        try:
            labels = client.images.get(image).labels or {}
        except Exception:  # not pulled yet (compose pulls it), or the engine said no
            labels = None
        finally:
            client.close()
        if labels is not None:
            return labels.get(AUTH_LABEL) or None
    return "PLAIN" if image == KIND.offline_image() else None


def compose_spec(name: str, settings: MongoSettings, ctx: ComposeContext) -> ComposeSpec:
    port, inner = ctx.ports(27017)
    password = secrets.token_urlsafe(24)
    auth = image_auth(KIND.image())
    standin = auth == "PLAIN"
    # the template's entrypoint copies it, as root, for the mongodb account (uid 999)
    secret = ctx.secret(f"{name}-password", password + "\n")
    bind = ["--bind_ip", LOOPBACK] if ctx.hostnet else ["--bind_ip_all"]
    conf = {**settings.conf(), "port": str(inner), "bind_ip": LOOPBACK if ctx.hostnet else "*"}
    environment = {"MONGO_PORT": str(inner)}
    login = f"drills:{quote(password, safe='')}@127.0.0.1:{inner}/"
    exec_env = {"MONGODB_URI": f"mongodb://{login}?authSource=admin"}
    if standin:
        # FerretDB ignores the write concern: an unjournaled write is one PostgreSQL does not
        # flush before it acknowledges the commit
        backing = "on" if settings.j else "off"
        environment["DRILLS_POSTGRES_ARGS"] = f"-c synchronous_commit={backing}"
        conf["backing synchronous_commit"] = backing
        # its PostgreSQL on the socket (scram-sha-256 there too), and the wire protocol
        exec_env = {"PGHOST": STANDIN_SOCKET_DIR, "PGUSER": "drills",
                    "PGDATABASE": STANDIN_DATABASE, "PGPASSWORD": password,
                    "MONGODB_URI": f"mongodb://{login}?authMechanism=PLAIN"}
    return ComposeSpec(
        endpoint=Endpoint("mongodb", LOOPBACK, port, password, user="drills",
                          database="drills", auth=auth,
                          client_options=settings.client_options()),
        container_port=inner,
        environment=environment,
        command=["mongod", "--port", str(inner), *bind],
        data_path=DATA_PATH,
        secret_mounts={PASSWORD_PATH: secret},
        identity={"server": "mongod"} if not standin else {},
        exec_env=exec_env,
        exec_user="mongodb",
        settings=conf,
    )


class ComposeMongo(ComposeService):
    """A MongoDB container; on the stand-in, the report names FerretDB and its PostgreSQL."""

    def describe(self) -> dict[str, Any]:
        found = super().describe()
        if self.endpoint.auth != "PLAIN":
            return found
        # FerretDB's buildInfo claims a MongoDB version (7.0.42): say what really answered
        claimed = found["version"]
        labels = self.rt.docker.images.get(self.image).labels or {}
        server = labels.get(SERVER_LABEL, "FerretDB")
        backing = labels.get("org.opencontainers.image.version", "?").split("-")[0]
        found["version"] = f"{server} over PostgreSQL {backing}"
        found["server"] = (f"{server} (a MongoDB wire-protocol server; buildInfo says "
                           f"{claimed}) over PostgreSQL {backing}: drills' offline stand-in "
                           "for mongod; its durability is PostgreSQL's, not WiredTiger's")
        return found


#: the compose runtime builds this kind's services with this class
SERVICE_CLASS = ComposeMongo
