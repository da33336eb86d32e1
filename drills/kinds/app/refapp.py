"""The reference app: an HTTP API over PostgreSQL (system of record) and Redis (cache).

It has the shape of the services our users' DR plans describe. It is the system under
drill, not part of drills: one file, no import from drills, so that an image can hold it
alone. Run it with ``python3 refapp.py``; it is configured by its environment:

    APP_HOST, APP_PORT                      where it listens (127.0.0.1:8080)
    APP_PG_HOST, APP_PG_PORT, APP_PG_USER, APP_PG_DATABASE, APP_PG_PASSWORD_FILE
    APP_REDIS_HOST, APP_REDIS_PORT, APP_REDIS_PASSWORD_FILE
    APP_TABLE                               its table in PostgreSQL (items)
    APP_DEADLINE_S                          the longest a request may take (2)
    APP_INSTANCE                            a name its health check reports (drills: a token)

API:

    POST /items  {"id": 17, "value": "..."}
                                         store (PostgreSQL, then the cache); 201, or 200 when
                                         the same id and value were stored before (a retry)
    GET  /items/{id}                     Redis first, then PostgreSQL; 404 if absent
    GET  /health                         200 "ok", 200 "degraded" (no cache), 503 (no database)

A write that fails says whether it reached the database, so that a client can tell "not
done" from "maybe done" (Jepsen's fail and info):

    503 and X-Write-Attempted: no    refused before anything was sent to PostgreSQL
    409                              the id holds another value: refused, nothing changed
    502 / 504 and X-Write-Attempted: yes
                                     the connection broke or the deadline passed while the
                                     INSERT was in flight: it may or may not have committed

When Redis is unreachable the app keeps serving from PostgreSQL, skips the cache for a
second at a time (a circuit breaker), and says "degraded" in its health check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import redis.asyncio as aioredis
from aiohttp import web
from psycopg import errors as pg_errors
from redis import exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

log = logging.getLogger("refapp")
T = TypeVar("T")

VERSION = "1.0.0"  # reported by the health check
CACHE_TTL_S = 300
CACHE_TIMEOUT_S = 0.25  # a cache slower than this is skipped, never waited for
CACHE_PAUSE_S = 1.0  # after a cache failure, how long requests go straight to PostgreSQL
CONNECT_TIMEOUT_S = 1  # libpq's connect_timeout (whole seconds)
POOL_SIZE = 16


def secret(variable: str) -> str:
    """The content of the file named by ``variable`` (passwords never sit in the environment)."""
    path = os.environ.get(variable)
    return Path(path).read_text(encoding="utf-8").strip() if path else ""


class NotAttempted(Exception):
    """Nothing was sent to the database: the write certainly did not happen."""


class Database:
    """A small pool of PostgreSQL connections; a connection in doubt is never reused."""

    def __init__(self, table: str, deadline_s: float) -> None:
        self.table = table
        self.deadline_s = deadline_s
        self.conninfo = psycopg.conninfo.make_conninfo(
            host=os.environ.get("APP_PG_HOST", "127.0.0.1"),
            port=os.environ.get("APP_PG_PORT", "5432"),
            user=os.environ.get("APP_PG_USER", "postgres"),
            dbname=os.environ.get("APP_PG_DATABASE", "postgres"),
            password=secret("APP_PG_PASSWORD_FILE"),
            connect_timeout=CONNECT_TIMEOUT_S, application_name="refapp",
        )
        self.idle: list[psycopg.AsyncConnection[Any]] = []
        self.slots = asyncio.Semaphore(POOL_SIZE)
        self.changed = asyncio.Condition()  # a connection came back, or a connect ended
        self.connecting = False
        self.schema_ready = False

    @asynccontextmanager
    async def connection(self, within_s: float) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for one request within ``within_s``; NotAttempted if none came."""
        loop = asyncio.get_running_loop()
        until = loop.time() + within_s
        try:
            await asyncio.wait_for(self.slots.acquire(), within_s)
        except TimeoutError:
            raise NotAttempted("every database connection is busy") from None
        conn: psycopg.AsyncConnection[Any] | None = None
        try:
            try:  # queued behind a connect, or connecting: bounded by the request's deadline
                conn = await asyncio.wait_for(self._take(), max(until - loop.time(), 0.001))
            except TimeoutError:
                raise NotAttempted(f"no database connection within {within_s:.1f} s") from None
            yield conn
        except BaseException:
            if conn is not None:  # in doubt (broken, cancelled mid-query): thrown away
                await _discard(conn)
                conn = None
            raise
        finally:
            if conn is not None:
                async with self.changed:
                    self.idle.append(conn)
                    self.changed.notify()
            self.slots.release()

    async def run(self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
        """``work`` on a connection of the pool, within the request's deadline.

        NotAttempted when no connection could be had; TimeoutError when the work was on
        the wire at the deadline. The connection is then closed under the query (PQfinish)
        before the work is cancelled: psycopg answers a cancellation by sending a cancel
        request down the same broken link and waiting seconds for it.
        """
        loop = asyncio.get_running_loop()
        until = loop.time() + self.deadline_s
        # half the deadline at most to get a connection: the other half is the query's
        async with self.connection(self.deadline_s / 2) as conn:
            task = asyncio.ensure_future(work(conn))
            try:
                done, _ = await asyncio.wait({task}, timeout=max(until - loop.time(), 0.001))
            finally:  # the deadline, or this request cancelled (its client went away)
                if not task.done():
                    conn.pgconn.finish()  # closed first: no cancel request down the link
                    task.cancel()  # not awaited: a wait on a closed socket may never wake
                    task.add_done_callback(_forget)
            if task in done:
                return task.result()
            raise TimeoutError(f"no answer within {self.deadline_s} s")

    async def _take(self) -> psycopg.AsyncConnection[Any]:
        """An idle connection, else a new one, opened one at a time.

        After an outage every request finds the pool empty. Opening connections one by one
        (as psycopg_pool grows a pool) serves the first requests after one handshake; all
        at once, every request would wait for all the handshakes, which share the CPU.
        """
        while True:
            async with self.changed:
                while not self.idle and self.connecting:
                    await self.changed.wait()
                found = self.idle.pop() if self.idle else None
                if found is None:
                    self.connecting = True
            if found is not None:
                if not (found.closed or found.broken):
                    return found
                await _discard(found)
                continue
            try:
                return await self._connect()
            finally:
                async with self.changed:
                    self.connecting = False
                    self.changed.notify_all()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        """A new connection, its table created on the first; NotAttempted if that fails."""
        try:
            conn = await asyncio.wait_for(
                psycopg.AsyncConnection.connect(self.conninfo, autocommit=True),
                CONNECT_TIMEOUT_S + 0.5)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            raise NotAttempted(f"cannot connect to PostgreSQL: {exc}") from exc
        if not self.schema_ready:
            try:
                await conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (id bigint "
                                   "PRIMARY KEY, value text NOT NULL, written_at timestamptz "
                                   "NOT NULL DEFAULT clock_timestamp())")
            except (psycopg.Error, OSError) as exc:
                await _discard(conn)
                raise NotAttempted(f"cannot create table {self.table}: {exc}") from exc
            self.schema_ready = True
        return conn

    async def close(self) -> None:
        while self.idle:
            await _discard(self.idle.pop())


def _forget(task: asyncio.Future[Any]) -> None:
    """Collect an abandoned query's end, so that asyncio does not report it as lost."""
    if not task.cancelled():
        task.exception()


async def _discard(conn: psycopg.AsyncConnection[Any]) -> None:
    try:
        await asyncio.wait_for(conn.close(), 0.5)
    except (psycopg.Error, OSError, TimeoutError):
        pass


class Cache:
    """Redis as a cache that may be gone: every call bounded, failures pause its use."""

    def __init__(self) -> None:
        self.client = aioredis.Redis(
            host=os.environ.get("APP_REDIS_HOST", "127.0.0.1"),
            port=int(os.environ.get("APP_REDIS_PORT", "6379")),
            password=secret("APP_REDIS_PASSWORD_FILE") or None,
            socket_timeout=CACHE_TIMEOUT_S, socket_connect_timeout=CACHE_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0), decode_responses=True,  # a failure is final at once
            # no asyncio.wait_for around commands: cancelling one can leave its reply on the
            # connection for the next command to read (redis-py before 4.5.3, Debian's 4.3.4)
        )
        self.skip_until = 0.0
        self.last_error = ""

    def usable(self) -> bool:
        return time.monotonic() >= self.skip_until

    def failed(self, exc: BaseException) -> None:
        self.skip_until = time.monotonic() + CACHE_PAUSE_S
        self.last_error = f"{type(exc).__name__}: {exc or f'no answer in {CACHE_TIMEOUT_S} s'}"
        log.warning("cache unavailable for %.0f s: %s", CACHE_PAUSE_S, self.last_error)

    async def get(self, key: str) -> str | None:
        if not self.usable():
            return None
        try:  # bounded by socket_timeout: redis-py drops the connection on its own timeout
            value = await self.client.get(key)
        except (redis_errors.RedisError, OSError, TimeoutError) as exc:
            self.failed(exc)
            return None
        return None if value is None else str(value)

    async def put(self, key: str, value: str) -> None:
        if not self.usable():
            return
        try:
            await self.client.set(key, value, ex=CACHE_TTL_S)
        except (redis_errors.RedisError, OSError, TimeoutError) as exc:
            self.failed(exc)

    async def ping(self) -> str | None:
        """None when Redis answers, else why not."""
        try:
            await self.client.ping()
        except (redis_errors.RedisError, OSError, TimeoutError) as exc:
            self.failed(exc)
            return self.last_error
        self.skip_until = 0.0
        return None


def reply(status: int, body: dict[str, Any], attempted: bool | None = None) -> web.Response:
    headers = {} if attempted is None else {"X-Write-Attempted": "yes" if attempted else "no"}
    return web.Response(status=status, text=json.dumps(body), headers=headers,
                        content_type="application/json")


def item_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "the id must be an integer"}',
                                 content_type="application/json") from None


async def post_item(request: web.Request) -> web.Response:
    """Store an item under the id the client chose.

    POST, not PUT: HTTP clients retry an idempotent PUT on a new connection when the first
    one broke after sending it, and the client then reports the second attempt's error
    (a refused connection) for a write that may have happened.
    """
    db: Database = request.app["db"]
    cache: Cache = request.app["cache"]
    try:
        body = await request.json()
        key, value = int(body["id"]), str(body["value"])
    except (ValueError, KeyError, TypeError):
        return reply(400, {"error": 'the body must be {"id": <integer>, "value": "..."}'},
                     attempted=False)

    async def insert(conn: psycopg.AsyncConnection[Any]) -> tuple[str, bool] | None:
        cur = await conn.execute(f"INSERT INTO {db.table} (id, value) VALUES (%s, %s) "
                                 "ON CONFLICT (id) DO NOTHING RETURNING value",
                                 (key, value), prepare=True)
        if await cur.fetchone() is not None:
            return value, True
        # a retry of a stored write (the same value), or a clash (another value)
        cur = await conn.execute(f"SELECT value, false FROM {db.table} WHERE id = %s", (key,))
        return await cur.fetchone()

    try:
        row = await db.run(insert)
    except NotAttempted as exc:
        return reply(503, {"error": str(exc), "attempted": False}, attempted=False)
    except (pg_errors.DataError, pg_errors.IntegrityError) as exc:  # refused: nothing changed
        return reply(409, {"error": str(exc), "attempted": True}, attempted=True)
    except TimeoutError as exc:  # the INSERT was on the wire: maybe done
        return reply(504, {"error": str(exc), "attempted": True}, attempted=True)
    except (psycopg.Error, OSError) as exc:
        return reply(502, {"error": f"{type(exc).__name__}: {exc}", "attempted": True},
                     attempted=True)
    if row is None or row[0] != value:
        return reply(409, {"error": f"item {key} holds another value"}, attempted=True)
    await cache.put(f"item:{key}", value)
    return reply(201 if row[1] else 200, {"id": key, "value": value})


async def get_item(request: web.Request) -> web.Response:
    db: Database = request.app["db"]
    cache: Cache = request.app["cache"]
    key = item_id(request)
    cached = await cache.get(f"item:{key}")
    if cached is not None:
        return reply(200, {"id": key, "value": cached, "source": "cache"})
    async def select(conn: psycopg.AsyncConnection[Any]) -> tuple[str] | None:
        cur = await conn.execute(f"SELECT value FROM {db.table} WHERE id = %s", (key,))
        return await cur.fetchone()

    try:
        row = await db.run(select)
    except NotAttempted as exc:
        return reply(503, {"error": str(exc)})
    except TimeoutError as exc:
        return reply(504, {"error": str(exc)})
    except (psycopg.Error, OSError) as exc:
        return reply(502, {"error": f"{type(exc).__name__}: {exc}"})
    if row is None:
        return reply(404, {"error": f"no item {key}"})
    await cache.put(f"item:{key}", str(row[0]))
    return reply(200, {"id": key, "value": row[0], "source": "database"})


async def health(request: web.Request) -> web.Response:
    db: Database = request.app["db"]
    cache: Cache = request.app["cache"]
    async def ping(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute("SELECT 1")

    try:
        await db.run(ping)
    except (NotAttempted, TimeoutError, psycopg.Error, OSError) as exc:
        return reply(503, {"status": "down", "database": f"{type(exc).__name__}: {exc}",
                           "instance": os.environ.get("APP_INSTANCE", "")})
    problem = await cache.ping()
    me = {"instance": os.environ.get("APP_INSTANCE", ""), "version": VERSION}
    if problem is not None:
        return reply(200, {"status": "degraded", "database": "ok", "cache": problem, **me})
    return reply(200, {"status": "ok", "database": "ok", "cache": "ok", **me})


def make_app() -> web.Application:
    app = web.Application()
    app["db"] = Database(os.environ.get("APP_TABLE", "items"),
                         float(os.environ.get("APP_DEADLINE_S", "2")))
    app["cache"] = Cache()
    app.router.add_post("/items", post_item)
    app.router.add_get("/items/{id}", get_item)
    app.router.add_get("/health", health)

    async def closing(app: web.Application) -> None:
        await app["db"].close()
        client = app["cache"].client
        await (client.aclose() if hasattr(client, "aclose") else client.close())

    app.on_cleanup.append(closing)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a clean stop on SIGTERM
    web.run_app(make_app(), host=os.environ.get("APP_HOST", "127.0.0.1"),
                port=int(os.environ.get("APP_PORT", "8080")), access_log=None,
                handle_signals=False, print=lambda *_: None)


if __name__ == "__main__":
    main()
