"""A Patroni cluster as its members share it: scope, DCS, per-run passwords, patroni.yml.

The first member built for a scope makes the cluster (its passwords, generated per run);
every later member of the same scope and DCS joins it, so that all use the same
superuser, replication and REST API passwords, as Patroni requires.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drills.errors import StackError
from drills.kinds.etcd.server import EtcdServer
from drills.kinds.patroni.settings import PatroniSettings

if TYPE_CHECKING:
    from drills.kinds.patroni.member import PatroniMember
    from drills.stack.service import Service

#: the superuser every member's endpoint connects as; owner of database DATABASE
SUPERUSER = "drills"
DATABASE = "drills"
REPLICATION_USER = "replicator"
#: Patroni's default namespace in the DCS: its keys are /service/<scope>/...
NAMESPACE = "/service/"


@dataclass
class Cluster:
    """The members of one scope, and what they share."""

    settings: PatroniSettings
    dcs_name: str
    dcs_host: str
    dcs_port: int
    superuser_password: str = field(repr=False)
    replication_password: str = field(repr=False)
    rest_password: str = field(repr=False)
    members: list[PatroniMember] = field(default_factory=list)

    @property
    def scope(self) -> str:
        return self.settings.scope

    def key(self, name: str) -> str:
        """A key of this cluster in the DCS: ``leader``, ``members/``, ``initialize``..."""
        return f"{NAMESPACE}{self.scope}/{name}"

    @property
    def rest_auth(self) -> tuple[str, str]:
        return (SUPERUSER, self.rest_password)


def join(name: str, settings: PatroniSettings, services: Mapping[str, Service]) -> Cluster:
    """The cluster member ``name`` belongs to: its scope's, made by an earlier member, or new.

    StackError when its DCS is not an etcd service listed before it, or when its settings
    differ from those of the members before it.
    """
    from drills.kinds.patroni.member import PatroniMember

    dcs = services.get(settings.dcs)
    if not isinstance(dcs, EtcdServer):
        listed = ", ".join(services) or "none"
        raise StackError(f"Patroni service {name}: its dcs {settings.dcs!r} is not an etcd "
                         f"service listed before it (listed before it: {listed}). List the "
                         "etcd service first and name it in PatroniSettings(dcs=...)")
    for other in services.values():
        if isinstance(other, PatroniMember) and other.cluster.scope == settings.scope \
                and other.cluster.dcs_name == settings.dcs:
            if other.cluster.settings != settings:
                raise StackError(f"Patroni service {name}: scope {settings.scope!r} has "
                                 f"other settings in {other.name}; every member of a scope "
                                 "must be given the same PatroniSettings")
            return other.cluster
    return Cluster(settings, dcs.name, dcs.endpoint.host, dcs.endpoint.port,
                   secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                   secrets.token_urlsafe(24))


def post_bootstrap_script(psql: str) -> str:
    """Patroni's post_bootstrap: creates the drill's database, owned by the superuser.

    Patroni calls it once, on the member that bootstraps, with a connection string as
    its last argument; the replicas clone the database with the rest.
    """
    return ("#!/bin/sh\n# drills: Patroni's post_bootstrap ($1: a connection string)\nset -e\n"
            f"exec {psql} -v ON_ERROR_STOP=1 -X -q -d \"$1\" "
            f"-c 'CREATE DATABASE {DATABASE} OWNER {SUPERUSER}'\n")


@dataclass(frozen=True)
class Layout:
    """Where one member listens and keeps its files, as Patroni (in its place) sees them."""

    host: str
    port: int
    rest_port: int
    data_dir: str
    bin_dir: str | None
    socket_dir: str
    pgpass: str
    post_bootstrap: Sequence[str]


def patroni_yml(name: str, cluster: Cluster, at: Layout) -> dict[str, Any]:
    """The configuration file of member ``name`` (patroni.yml), as a mapping."""
    settings = cluster.settings
    postgresql: dict[str, Any] = {
        "listen": f"{at.host}:{at.port}",
        "connect_address": f"{at.host}:{at.port}",
        "data_dir": at.data_dir,
        "pgpass": at.pgpass,
        # pg_basebackup's default is a spread checkpoint: minutes on an idle new leader
        "basebackup": [{"checkpoint": "fast"}],
        "authentication": {
            "superuser": {"username": SUPERUSER, "password": cluster.superuser_password},
            "replication": {"username": REPLICATION_USER,
                            "password": cluster.replication_password},
            # Patroni's default, said: pg_rewind connects as the superuser
            "rewind": {"username": SUPERUSER, "password": cluster.superuser_password},
        },
        # the socket only in the member's own directory, trusted as initdb's default is;
        # over TCP a password, for clients and for replication alike
        "pg_hba": [
            "local all all trust",
            f"host all all {at.host}/32 scram-sha-256",
            f"host replication {REPLICATION_USER} {at.host}/32 scram-sha-256",
        ],
        "parameters": {"unix_socket_directories": at.socket_dir,
                       "password_encryption": "scram-sha-256"},
    }
    if at.bin_dir is not None:
        postgresql["bin_dir"] = at.bin_dir
    return {
        "scope": cluster.scope,
        "namespace": NAMESPACE,
        "name": name,
        "log": {"level": "INFO"},
        "restapi": {
            "listen": f"{at.host}:{at.rest_port}",
            "connect_address": f"{at.host}:{at.rest_port}",
            # POST (switchover, restart...) needs it; GET (health checks) does not
            "authentication": {"username": SUPERUSER, "password": cluster.rest_password},
        },
        "etcd3": {"host": f"{cluster.dcs_host}:{cluster.dcs_port}", "protocol": "http"},
        "bootstrap": {
            "dcs": settings.dynamic(),
            "initdb": [{"encoding": "UTF8"}, {"locale": "C"}, "data-checksums"],
            "post_bootstrap": shlex.join(at.post_bootstrap),
        },
        "postgresql": postgresql,
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False,
                 "nosync": False},
    }
