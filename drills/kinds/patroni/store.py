"""A Patroni member is a PostgreSQL server: PostgreSQL's data-store adapter, re-exported.

Imported only when a drill first talks to a member: it imports psycopg. Anything else
the PostgreSQL adapter offers (replication state, SQL checks...) is reached through
this module too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drills.kinds.postgres import store as _postgres
from drills.kinds.postgres.store import (
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


def __getattr__(name: str) -> Any:
    """The rest of PostgreSQL's adapter (connect, query, replication, ...)."""
    try:
        return getattr(_postgres, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


if TYPE_CHECKING:  # mypy checks that this module is a DataStore
    import drills.kinds.patroni.store as _this
    from drills.datastore import DataStore

    _conforms: DataStore = _this
