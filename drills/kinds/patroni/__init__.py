"""Patroni: PostgreSQL with automatic failover, one member per service, state in etcd.

settings.py   PatroniSettings: the cluster (scope, DCS), its timing, PostgreSQL parameters
cluster.py    Cluster: what the members of one scope share (per-run passwords), patroni.yml
member.py     PatroniMember: REST API (role, leader), readiness, ``switchover()``
local.py      LocalPatroni: Patroni and its PostgreSQL as one supervised process tree
compose.py    the service from the ``patroni`` template of docker-compose.drill.yml
store.py      the PostgreSQL data-store adapter (a member is a PostgreSQL server)
image/        the offline image drills/patroni:3.0.2 (Debian's patroni + postgresql-15)

A member's endpoint is a PostgreSQL endpoint (user and database ``drills``); to follow
the leader, clients go through an ``haproxy`` service in front of the members.
"""

from __future__ import annotations

from drills.kinds.base import ServiceKind
from drills.kinds.patroni.settings import PatroniSettings

__all__ = ["KIND", "PatroniSettings"]

#: the version Debian bookworm ships, which the local runtime and the offline image run
VERSION = "3.0.2"


class PatroniKind(ServiceKind):
    name = "patroni"
    title = "PostgreSQL (Patroni member)"
    settings_type = PatroniSettings
    #: no registry image follows the contract drills needs (patroni.yml as a file, etcd3)
    default_image = f"drills/patroni:{VERSION}"
    ledger = "tables drill_writes and drill_probe"
    reach_needs = ("user", "database")
    check_language = "sql"
    driver_modules = ("psycopg",)


KIND = PatroniKind()
