"""MongoDB as a data store: the ledger collection, probe, read-back, identity.

This module is the kind's data-store adapter (drills.datastore.DataStore), imported only
when a drill first talks to MongoDB: it imports pymongo (the ``mongodb`` extra).

- The ledger is the collection ``drills_writes`` of database ``drills``: one document
  ``{_id: <op id>, v: <value>}`` per write, inserted with the plan's write concern; ``_id``
  keeps it to one document per write (a second insert of an id is refused, as PostgreSQL's
  primary key refuses it, never written over).
- ``drills_meta`` holds one document, written before the load: a database that lost it
  (dropDatabase, an empty restore) does not answer correctly, even if a new document can
  be written (MongoDB creates a missing collection on the first insert).
- Clients never retry (``retryWrites=False``) and a failed client is dropped, so the next
  attempt connects at once instead of waiting for the driver's 0.5 s re-check: the outage
  is seen as it is.
- A write whose server could not be selected never left the client (``NotSent``); one that
  failed on an open connection is unknown. Of the server's error answers, only those that
  prove the write was not applied are a refusal (``Rejected``): a write error (a duplicate
  ``_id``), a command refused before it ran (authentication, a bad request), and on FerretDB
  a PostgreSQL it could not reach. A write concern error comes after the write was applied
  (the wait for the journal or the replicas failed), and FerretDB's internal error may hide
  a commit whose answer was lost: both are unknown.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

# without the extra: drills.kinds.base names it (pip install 'drills[mongodb]')
import pymongo
from pymongo.errors import (
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WriteConcernError,
    WriteError,
)
from pymongo.read_preferences import ReadPreference
from pymongo.write_concern import WriteConcern

from drills.datastore import LedgerGone, NotSent, ProbeFailed, Rejected
from drills.errors import NotOurServer, StackError
from drills.stack.endpoint import Endpoint

DATABASE = "drills"
LEDGER = "drills_writes"
PROBES = "drills_probe"
META = "drills_meta"
DATASET = "drills_dataset"
#: where the read-back comes from, for the report
source = f"collection {DATABASE}.{LEDGER}"
_DATASET_VALUE = 512  # bytes of each dataset document's payload


#: error codes a server answers before it runs the command: the write was not applied
#: (BadValue, FailedToParse, Unauthorized, AuthenticationFailed, NamespaceNotFound,
#: InvalidNamespace, CommandNotFound, TypeMismatch)
REFUSED_BEFORE_RUNNING = frozenset({2, 9, 13, 14, 18, 26, 59, 73})
#: what FerretDB's internal error (code 1) says when its PostgreSQL could not be reached,
#: so that the write never began: connection refused, starting up, wrong password
_FERRETDB_UNREACHED = ("failed to connect", "dial error", "connect: connection refused",
                       "57P03", "28P01", "the database system is starting up")


def refused(exc: OperationFailure) -> bool:
    """Whether the server's error answer proves the write was not applied."""
    if isinstance(exc, WriteConcernError):
        return False  # applied; the wait for its durability failed
    if isinstance(exc, WriteError):
        return True  # the document was refused (a duplicate _id, a validation)
    if exc.code in REFUSED_BEFORE_RUNNING:
        return True
    message = str((exc.details or {}).get("errmsg", exc))
    return exc.code == 1 and any(sign in message for sign in _FERRETDB_UNREACHED)


def where(endpoint: Endpoint) -> str:
    return f"MongoDB at {endpoint.host}:{endpoint.port}"


def client(endpoint: Endpoint, timeout_s: float = 10.0, select_s: float | None = None
           ) -> pymongo.MongoClient[dict[str, Any]]:
    """A client of the one server at ``endpoint``, authenticated with the run's password.

    Its write concern is the endpoint's (``client_options`` w and j: the plan's settings).
    ``select_s``: how long an operation waits for the server to be reachable before it
    fails without sending anything (default: ``timeout_s``).
    """
    auth: dict[str, Any] = {}
    if endpoint.user is not None:
        auth = {"username": endpoint.user, "password": endpoint.password}
        if endpoint.auth == "PLAIN":  # FerretDB: the credentials go on to its PostgreSQL
            auth.update(authMechanism="PLAIN", authSource="$external")
        elif endpoint.auth is not None:
            auth.update(authMechanism=endpoint.auth)
    conf = dict(endpoint.client_options)
    select = timeout_s if select_s is None else select_s
    return pymongo.MongoClient(
        endpoint.host, endpoint.port, directConnection=True, retryWrites=False,
        retryReads=False, connectTimeoutMS=int(select * 1000),
        serverSelectionTimeoutMS=int(select * 1000), socketTimeoutMS=int(timeout_s * 1000),
        maxPoolSize=1, appname="drills",
        w=_w(conf.get("w", "1")), journal=conf.get("j", "true") == "true",
        readPreference=conf.get("readPreference", "primary"),
        **auth,
    )


def _w(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _failed(exc: PyMongoError) -> str:
    """An error for people: its class and code, without FerretDB's Go call-site chains."""
    if isinstance(exc, OperationFailure):
        message = str((exc.details or {}).get("errmsg", exc)).split("\n", 1)[0]
        return f"{type(exc).__name__} (code {exc.code}): {message[-300:]}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def identify(endpoint: Endpoint, expect: Mapping[str, str] | None = None) -> dict[str, str]:
    """Log in with the run's password, ping, and name the server that answered.

    ``server`` is ``mongod`` or ``FerretDB`` (the stand-in): results depend on it.
    """
    status: Mapping[str, Any] = {}
    try:
        with client(endpoint, timeout_s=5) as c:
            c.admin.command("ping")  # FerretDB: reaches its PostgreSQL (hello would not)
            info = c.admin.command("buildInfo")
            try:
                status = c.admin.command("serverStatus")
            except OperationFailure as exc:
                if exc.code != 13:  # a team's user without clusterMonitor: no pid, no harm
                    raise
    except OperationFailure as exc:
        if exc.code == 18 or "password authentication failed" in str(exc):
            raise NotOurServer(f"the server of {where(endpoint)} is not ours: it refused "
                               f"this run's password ({_failed(exc)}). Another process "
                               "holds the port.") from exc
        raise StackError(f"{where(endpoint)}: {_failed(exc)}") from exc
    except PyMongoError as exc:
        raise StackError(f"{where(endpoint)}: {_failed(exc)}") from exc
    # FerretDB answers as MongoDB 7.0.42 and adds ferretdbVersion ("unknown" when embedded)
    found = {"version": str(info.get("version")),
             "server": "FerretDB" if "ferretdbVersion" in info else "mongod",
             "pid": str(status.get("pid", ""))}
    for key, value in (expect or {}).items():
        if found.get(key) != value:
            raise NotOurServer(f"the server of {where(endpoint)} is not ours: {key} is "
                               f"{found.get(key)!r}, expected {value!r}.")
    return found


def query(endpoint: Endpoint, request: str | Sequence[str], timeout_s: float = 10.0) -> int:
    """A plan's MongoDB check: how many documents match (``{database, count, filter}``)."""
    spec = json.loads(request if isinstance(request, str) else " ".join(request))
    try:
        with client(endpoint, timeout_s=timeout_s) as c:
            return int(c[spec["database"]][spec["count"]].count_documents(spec["filter"]))
    except PyMongoError as exc:
        raise StackError(f"{where(endpoint)}: {_failed(exc)}") from exc


def prepare(endpoint: Endpoint) -> None:
    """The ledger's index is ``_id``'s own; write the marker the probe checks."""
    with client(endpoint) as c:
        c[DATABASE][META].replace_one({"_id": "ledger"}, {"_id": "ledger",
                                      "note": "written by drills before the load"},
                                      upsert=True)
        # the collection exists, and is empty (again, after an interrupted earlier prepare)
        c[DATABASE][LEDGER].replace_one({"_id": 0}, {"_id": 0, "v": "created by drills"},
                                        upsert=True)
        c[DATABASE][LEDGER].delete_one({"_id": 0})


def writer(endpoint: Endpoint) -> MongoWriter:
    """One workload connection, with the endpoint's write concern."""
    return MongoWriter(endpoint)


def probe(endpoint: Endpoint) -> MongoProbe:
    """The steady-state probe."""
    return MongoProbe(endpoint)


class MongoWriter:
    """One workload connection: an insert of ``{_id: op_id, v: value}``."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.client: pymongo.MongoClient[dict[str, Any]] | None = None

    def write(self, op_id: int, value: str) -> None:
        if self.client is None:
            self.client = client(self.endpoint, timeout_s=30, select_s=1.0)
        ledger = self.client[DATABASE][LEDGER]
        try:
            done = ledger.insert_one({"_id": op_id, "v": value})
        except ServerSelectionTimeoutError as exc:
            self.close()
            raise NotSent(_failed(exc)) from exc
        except OperationFailure as exc:
            self.close()
            if refused(exc):
                raise Rejected(_failed(exc)) from exc
            raise  # the write may have been applied: unknown
        except BaseException:
            self.close()
            raise
        if not done.acknowledged:
            raise Rejected("the write was not acknowledged")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


class MongoProbe:
    """The steady-state probe: insert a probe document, read it back, and the marker."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.client: pymongo.MongoClient[dict[str, Any]] | None = None

    def attempt(self, seq: int) -> None:
        value = f"probe-{seq}"
        try:
            if self.client is None:
                self.client = client(self.endpoint, timeout_s=10, select_s=0.5)
            db = self.client.get_database(DATABASE, read_preference=ReadPreference.PRIMARY)
            db[PROBES].with_options(write_concern=WriteConcern(w=1, j=True)).replace_one(
                {"_id": seq}, {"_id": seq, "v": value}, upsert=True)
            got = db[PROBES].find_one({"_id": seq})
            marker = db[META].find_one({"_id": "ledger"})
        except PyMongoError as exc:
            self.close()
            raise ProbeFailed(_failed(exc)) from exc
        if got is None or got.get("v") != value:
            raise ProbeFailed(f"probe document {seq} read back as {got!r}")
        if marker is None:
            raise ProbeFailed(f"the workload's database is gone: {META} has no marker")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


def read_back(endpoint: Endpoint) -> Iterator[tuple[int, str]]:
    """Every ledger document, (id, value), streamed in ``_id`` order.

    Streamed, never looked up by id: FerretDB answers a find by ``_id`` with a scan.
    """
    with client(endpoint, timeout_s=120) as c:
        db = c[DATABASE]
        try:
            if LEDGER not in db.list_collection_names():
                raise LedgerGone(f"{where(endpoint)} has no collection {DATABASE}.{LEDGER}")
            ledger = db[LEDGER].with_options(read_preference=ReadPreference.PRIMARY)
            for doc in ledger.find({}, {"_id": 1, "v": 1}, batch_size=5000).sort("_id", 1):
                if isinstance(doc["_id"], int):
                    yield doc["_id"], str(doc.get("v"))
        except ConnectionFailure as exc:
            raise StackError(f"{where(endpoint)}: {_failed(exc)}") from exc


def delete(endpoint: Endpoint, ids: list[int]) -> int:
    if not ids:
        return 0
    with client(endpoint) as c:
        return int(c[DATABASE][LEDGER].delete_many({"_id": {"$in": list(ids)}}).deleted_count)


def load_dataset(endpoint: Endpoint, size_bytes: int) -> dict[str, int]:
    """Insert about ``size_bytes`` of documents (512-byte payloads) into drills_dataset."""
    count = max(1, size_bytes // (_DATASET_VALUE + 64))
    with client(endpoint, timeout_s=120) as c:
        dataset = c[DATABASE][DATASET]
        for first in range(0, count, 2000):
            dataset.insert_many([
                # random hex (seeded by the number): compresses about 2:1, as real data might
                {"_id": n, "p": random.Random(n).randbytes(_DATASET_VALUE // 2).hex()}
                for n in range(first, min(count, first + 2000))], ordered=False)
        size = int(c[DATABASE].command("dbStats").get("dataSize", 0))
    return {"rows": count, "bytes": size}


if TYPE_CHECKING:  # mypy checks that this module is a DataStore
    import drills.kinds.mongodb.store as _this
    from drills.datastore import DataStore

    _conforms: DataStore = _this
