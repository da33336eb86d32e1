"""PostgreSQL as a data store: the workload table, the probe table, read-back, identity.

This module is the kind's data-store adapter (drills.datastore.DataStore), imported only
when a drill first talks to PostgreSQL: it imports psycopg.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from drills.datastore import LedgerGone, NotSent, ProbeFailed, Rejected
from drills.errors import NotOurServer, StackError
from drills.stack.endpoint import Endpoint

if TYPE_CHECKING:
    from drills.replication.state import ReplicationState

TABLE = "drill_writes"
#: where the read-back comes from, for the report
source = f"table {TABLE}"
PROBE_TABLE = "drill_probe"
DATASET_TABLE = "drill_dataset"
#: bytes a dataset row takes on disk, about: 512 characters of payload, header, index entry
_DATASET_ROW_BYTES = 600
SCHEMA_SQL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigint PRIMARY KEY, value text NOT NULL, "
    "written_at timestamptz NOT NULL DEFAULT clock_timestamp())",
    f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (id bigint PRIMARY KEY, value text NOT NULL)",
)
_INSERT = f"INSERT INTO {TABLE} (id, value) VALUES (%s, %s)"
# Server refusals that prove the write did not happen (SQLSTATE classes 22, 23, 42).
_DEFINITE = (pg_errors.DataError, pg_errors.IntegrityError, pg_errors.ProgrammingError)


def connect(endpoint: Endpoint, timeout_s: int = 2) -> psycopg.Connection[Any]:
    """A connection; to the writable member when the endpoint lists several servers.

    libpq's multi-host form (``host=a,b port=1,2 target_session_attrs=read-write``): the
    client tries each in turn and keeps the first that accepts writes, as an application
    that follows a failover would.
    """
    hosts: dict[str, Any] = {"host": endpoint.host, "port": endpoint.port}
    if endpoint.alternates:
        addresses = endpoint.addresses()
        hosts = {"host": ",".join(h for h, _ in addresses),
                 "port": ",".join(str(p) for _, p in addresses),
                 "target_session_attrs": "read-write"}
    return psycopg.connect(
        **hosts, user=endpoint.user, dbname=endpoint.database,
        password=endpoint.password, autocommit=True, connect_timeout=timeout_s,
        application_name="drills",
    )


def reached(endpoint: Endpoint) -> tuple[str, int]:
    """The address a client connecting through ``endpoint`` lands on (of its several)."""
    try:
        with connect(endpoint) as conn:
            return str(conn.info.host), int(conn.info.port)
    except psycopg.Error as exc:
        raise StackError(f"postgres on {endpoint.host}:{endpoint.port}: {exc}".strip()) from exc


def identify(endpoint: Endpoint, expect: Mapping[str, str] | None = None) -> dict[str, str]:
    """Connect and prove identity: user, database and (if given) data directory."""
    try:
        with connect(endpoint) as conn:
            row = conn.execute(
                "SELECT current_user, current_database(), current_setting('data_directory'), "
                "current_setting('server_version'), current_setting('port')"
            ).fetchone()
    except psycopg.Error as exc:
        raise StackError(f"postgres on {endpoint.host}:{endpoint.port}: {exc}".strip()) from exc
    assert row is not None
    # the port tells apart servers whose containers use the same data path
    found = {"user": row[0], "database": row[1], "data_directory": row[2], "version": row[3],
             "port": str(row[4])}
    wanted = {"user": endpoint.user, "database": endpoint.database, **(expect or {})}
    for key, value in wanted.items():
        if value is not None and found[key] != value:
            raise NotOurServer(
                f"the server on {endpoint.host}:{endpoint.port} is not ours: {key} is "
                f"{found[key]!r}, expected {value!r}. Another process holds the port."
            )
    return found


def prepare(endpoint: Endpoint) -> None:
    """Create the workload and probe tables."""
    with connect(endpoint) as conn:
        for sql in SCHEMA_SQL:
            conn.execute(sql)


def writer(endpoint: Endpoint) -> PgWriter:
    """One workload connection."""
    return PgWriter(endpoint)


def probe(endpoint: Endpoint) -> PgProbe:
    """The steady-state probe."""
    return PgProbe(endpoint)


class PgWriter:
    """One workload connection; reconnects after a failure."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.conn: psycopg.Connection[Any] | None = None

    def write(self, op_id: int, value: str) -> None:
        if self.conn is None or self.conn.closed or self.conn.broken:
            try:
                self.conn = connect(self.endpoint)
            except psycopg.Error as exc:
                self.conn = None
                raise NotSent(str(exc).strip()) from exc
        try:
            self.conn.execute(_INSERT, (op_id, value), prepare=True)
        except _DEFINITE as exc:
            raise Rejected(str(exc).strip()) from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        _close(self.conn)
        self.conn = None


class PgProbe:
    """The steady-state probe: insert a row, read it back."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.conn: psycopg.Connection[Any] | None = None

    def attempt(self, seq: int) -> None:
        value = f"probe-{seq}"
        try:
            if self.conn is None or self.conn.closed or self.conn.broken:
                self.conn = connect(self.endpoint)
            self.conn.execute(f"INSERT INTO {PROBE_TABLE} (id, value) VALUES (%s, %s)",
                              (seq, value))
            # read back through the workload's table too (LIMIT 0 reads no row of it): a
            # service whose table was dropped does not answer correctly
            row = self.conn.execute(f"SELECT p.value FROM {PROBE_TABLE} p LEFT JOIN (SELECT 1 "
                                    f"FROM {TABLE} LIMIT 0) w ON true WHERE p.id = %s",
                                    (seq,)).fetchone()
        except psycopg.Error as exc:
            self.close()
            raise ProbeFailed(f"{type(exc).__name__}: {str(exc).strip()}") from exc
        if row is None or row[0] != value:
            raise ProbeFailed(f"probe row {seq} read back as {row!r}")

    def close(self) -> None:
        _close(self.conn)
        self.conn = None


def _close(conn: psycopg.Connection[Any] | None) -> None:
    """Close a connection whose state is in doubt; closing must not raise."""
    if conn is not None:
        try:
            conn.close()
        except psycopg.Error:
            pass


def read_back(endpoint: Endpoint) -> Iterator[tuple[int, str]]:
    """Every row of the workload table, (id, value), in id order.

    Ids below 1 are left out: they are the probe's when an app in front of this server
    writes into the same table (drills.kinds.app.store); the workload's start at 1.
    """
    with connect(endpoint, timeout_s=10) as conn, conn.cursor() as cur:
        try:
            with cur.copy(f"COPY (SELECT id, value FROM {TABLE} WHERE id > 0 ORDER BY id) "
                          "TO STDOUT") as copy:
                for row in copy.rows():
                    yield int(row[0]), str(row[1])
        except pg_errors.UndefinedTable as exc:
            raise LedgerGone(f"table {TABLE} does not exist in database "
                             f"{endpoint.database}: every write in it is gone") from exc


def delete(endpoint: Endpoint, ids: list[int]) -> int:
    with connect(endpoint) as conn:
        cur = conn.execute(f"DELETE FROM {TABLE} WHERE id = ANY(%s)", (ids,))
        return cur.rowcount



def load_dataset(endpoint: Endpoint, size_bytes: int) -> dict[str, int]:
    """Fill table drill_dataset with about ``size_bytes`` of rows, in batches."""
    rows = max(1, size_bytes // _DATASET_ROW_BYTES)
    batch = 50_000
    with connect(endpoint, timeout_s=10) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {DATASET_TABLE} (id bigint PRIMARY KEY, "
                     "payload text NOT NULL)")
        for first in range(1, rows + 1, batch):
            last = min(rows, first + batch - 1)
            # 16 different md5s a row: hex that compresses about 2:1, as real data might
            conn.execute(f"INSERT INTO {DATASET_TABLE} SELECT g, (SELECT string_agg(md5(g::text "
                         "|| ':' || i), '') FROM generate_series(1, 16) i) "
                         "FROM generate_series(%s::bigint, %s::bigint) g", (first, last))
        size = conn.execute("SELECT pg_total_relation_size(%s)", (DATASET_TABLE,)).fetchone()
    return {"rows": rows, "bytes": int(size[0]) if size else 0}


def query(endpoint: Endpoint, request: str | Sequence[str], timeout_s: float = 10.0) -> object:
    """A plan's SQL check: the first column of the first row of ``request``.

    Run in a read-only transaction with a statement timeout: a check must not change the
    team's data, nor hang.
    """
    if not isinstance(request, str):
        raise StackError("a PostgreSQL check is one SQL statement (sql: ...)")
    ms = max(1, int(timeout_s * 1000))
    try:
        with connect(endpoint, timeout_s=max(1, int(timeout_s))) as conn:
            conn.autocommit = False
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(f"SET LOCAL statement_timeout = {ms}")
                # prepared: one statement only (no "COMMIT; DELETE ..." out of read-only)
                row = conn.execute(request, prepare=True).fetchone()
    except psycopg.Error as exc:
        raise StackError(f"postgres on {endpoint.host}:{endpoint.port}: "
                         f"{type(exc).__name__}: {str(exc).strip()}") from exc
    return None if row is None else row[0]


#: the drill's own tables: judged by the ledger, not by the table inventory
OWN_TABLES = frozenset({TABLE, PROBE_TABLE})


def inventory(endpoint: Endpoint, timeout_s: float = 30.0) -> dict[str, int | None]:
    """Every user table of the database, with its exact row count, read only.

    None: not counted in time. What a restore must bring back (drills.measure.tables).
    """
    ms = max(1, int(timeout_s * 1000))
    counts: dict[str, int | None] = {}
    try:
        with connect(endpoint, timeout_s=10) as conn:
            conn.autocommit = False
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute(f"SET LOCAL statement_timeout = {ms}")
                tables = conn.execute(
                    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
                    "AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', "
                    "'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2"
                ).fetchall()
            for schema, name in tables:
                if schema == "public" and name in OWN_TABLES:
                    continue
                shown = name if schema == "public" else f"{schema}.{name}"
                try:
                    with conn.transaction():
                        conn.execute("SET TRANSACTION READ ONLY")
                        conn.execute(f"SET LOCAL statement_timeout = {ms}")
                        row = conn.execute(
                            sql.SQL("SELECT count(*) FROM {}").format(
                                sql.Identifier(schema, name))).fetchone()
                    counts[shown] = int(row[0]) if row else None
                except pg_errors.QueryCanceled:
                    counts[shown] = None
    except psycopg.Error as exc:
        raise StackError(f"postgres on {endpoint.host}:{endpoint.port}: "
                         f"{type(exc).__name__}: {str(exc).strip()}") from exc
    return counts


# -- replication (drills.replication) ------------------------------------------------

_PRIMARY_STATE = """
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
       current_setting('synchronous_standby_names'),
       (SELECT timeline_id FROM pg_control_checkpoint())
"""
_DOWNSTREAM = """
SELECT coalesce(application_name, '') || '@' || coalesce(client_addr::text, 'local'), state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,
       extract(epoch FROM replay_lag)::float8, sync_state
FROM pg_stat_replication ORDER BY 1
"""
_REPLICA_STATE = """
SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')::bigint,
       (SELECT status FROM pg_stat_wal_receiver),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
            ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
       END::float8,
       (SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver)
"""


def replication(endpoint: Endpoint, timeout_s: int = 2) -> ReplicationState:
    """The server's role, WAL position and replication lag, as it reports them."""
    from drills.replication.state import Downstream, ReplicationState

    try:
        with connect(endpoint, timeout_s=timeout_s) as conn:
            conn.execute(f"SET statement_timeout = {timeout_s * 1000}")
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is not None and not row[0]:
                top = conn.execute(_PRIMARY_STATE).fetchone()
                assert top is not None
                down = tuple(Downstream(name=r[0], state=r[1], lag_bytes=r[2], lag_s=r[3],
                                        sync_state=r[4])
                             for r in conn.execute(_DOWNSTREAM).fetchall())
                return ReplicationState(role="primary", position=top[0], downstream=down,
                                        synchronous=top[1], epoch=f"timeline {top[2]}")
            rep = conn.execute(_REPLICA_STATE).fetchone()
            assert rep is not None
            return ReplicationState(role="replica", position=rep[0], received=rep[1],
                                    streaming=rep[2] == "streaming", lag_s=rep[3],
                                    upstream=rep[4])
    except psycopg.Error as exc:
        raise StackError(f"postgres on {endpoint.host}:{endpoint.port}: "
                         f"{type(exc).__name__}: {str(exc).strip()}") from exc


def promote(endpoint: Endpoint, timeout_s: float = 60.0) -> str:
    """Make this replica the primary (``pg_promote(wait => true)``); what it did.

    Returns once the server accepts writes. A server that is already primary is refused:
    promoting it would prove nothing.
    """
    seconds = max(1, int(timeout_s))
    try:
        with connect(endpoint, timeout_s=min(seconds, 10)) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is not None and not row[0]:
                raise StackError(f"postgres on {endpoint.host}:{endpoint.port} is already a "
                                 "primary: there is nothing to promote")
            done = conn.execute("SELECT pg_promote(true, %s)", (seconds,)).fetchone()
            if done is None or not done[0]:
                raise StackError(f"postgres on {endpoint.host}:{endpoint.port}: pg_promote "
                                 f"did not finish within {seconds} s")
    except psycopg.Error as exc:
        raise StackError(f"postgres on {endpoint.host}:{endpoint.port}: "
                         f"{type(exc).__name__}: {str(exc).strip()}") from exc
    return "SELECT pg_promote(wait => true): the replica ended recovery and accepts writes"


def fence(endpoint: Endpoint, timeout_s: float = 10.0) -> str:
    """Stop this primary accepting writes, without stopping it: its ledger stays readable.

    ``default_transaction_read_only`` on and reloaded, then every other session ended:
    clients that look for the writable member (target_session_attrs=read-write) leave it.
    """
    try:
        with connect(endpoint, timeout_s=max(1, int(timeout_s))) as conn:
            conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            conn.execute("SELECT pg_reload_conf()")
            ended = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchone()
    except psycopg.Error as exc:
        raise StackError(f"postgres on {endpoint.host}:{endpoint.port}: "
                         f"{type(exc).__name__}: {str(exc).strip()}") from exc
    return (f"default_transaction_read_only = on (ALTER SYSTEM, reloaded), "
            f"{ended[0] if ended else 0} client sessions ended")


if TYPE_CHECKING:  # mypy checks that this module is a DataStore
    import drills.kinds.postgres.store as _this
    from drills.datastore import DataStore

    _conforms: DataStore = _this
