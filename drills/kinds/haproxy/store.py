"""HAProxy forwards to PostgreSQL: PostgreSQL's data-store adapter, re-exported.

Through HAProxy's frontend a drill writes, probes and reads back on whichever Patroni
member the health checks send it to. Imported only when a drill first talks to it: it
imports psycopg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# the rest of PostgreSQL's adapter (connect, query, replication...), as for a member
from drills.kinds.patroni.store import (
    __getattr__,  # noqa: F401
    delete,
    identify,
    load_dataset,
    prepare,
    probe,
    read_back,
    source,
    writer,
)

__all__ = ["delete", "identify", "load_dataset", "prepare", "probe", "read_back", "source",
           "writer"]

if TYPE_CHECKING:  # mypy checks that this module is a DataStore
    import drills.kinds.haproxy.store as _this
    from drills.datastore import DataStore

    _conforms: DataStore = _this
