"""A Sentinel as a drill sees it: ready, the primary it names, a failover awaited, its events.

Shared by the local and compose services of the kind. redis-py is imported when a method
first talks to a Sentinel, never at import time (the Locust child imports the registry
before gevent patches the standard library).

A Sentinel takes the password of the primary it watches (every member of a replicated
Redis service shares one): for its own clients (``requirepass``), for the primary and its
replicas (``auth-pass``) and for the other Sentinels (``sentinel-pass``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from drills.errors import NotOurServer, RecoveryError, StackError, printable
from drills.kinds.redis import KIND as REDIS
from drills.kinds.redis.replica import SENTINEL_DISCOVERY
from drills.kinds.sentinel.settings import SentinelSettings
from drills.record.clock import Instant
from drills.stack.endpoint import Endpoint
from drills.stack.service import Service

if TYPE_CHECKING:
    import redis

#: an event line of a Sentinel's log: "... # +odown master drills 127.0.0.1 6379 #quorum 1/1"
_EVENT = re.compile(r"^\S+ \d\d \w+ \d{4} (\d\d:\d\d:\d\d\.\d+) [.\-*#] ([+-][a-z][\w-]*)\b(.*)$")
#: flags of a primary that a Sentinel cannot fail over to, or does not see up
_DOWN = ("s_down", "o_down", "disconnected")


def watched(name: str, settings: SentinelSettings, services: Mapping[str, Service]) -> Service:
    """The primary a Sentinel watches: a Redis service listed before it."""
    found = services.get(settings.monitors)
    if found is None:
        before = ", ".join(services) or "none"
        raise StackError(f"{name}: monitors={settings.monitors!r} names no service listed "
                         f"before it (listed before: {before}). To fix this, list the Redis "
                         "primary (and its replicas) before its Sentinels.")
    if found.kind != REDIS.name:
        raise StackError(f"{name}: monitors={settings.monitors!r} is a {found.kind} service; "
                         "a Sentinel watches a Redis primary")
    follows = getattr(found, "replica_of", None)
    if follows is not None:
        raise StackError(f"{name}: monitors={settings.monitors!r} is a replica of {follows}: "
                         "a Sentinel watches the primary (and finds its replicas from it)")
    return found


def replicas_of(primary: str, services: Mapping[str, Service]) -> list[Service]:
    """The services of the stack started as replicas of ``primary``."""
    return [s for s in services.values() if getattr(s, "replica_of", None) == primary]


def peers_of(me: str, monitors: str, master_name: str, services: Mapping[str, Service]
             ) -> list[SentinelWatch]:
    """The other Sentinels of the stack watching the same primary under the same name."""
    return [s for s in services.values() if isinstance(s, SentinelWatch) and s.name != me
            and s.monitors == monitors and s.master_name == master_name]


def sentinel_conf(settings: SentinelSettings, primary: Endpoint, *, port: int, bind: str,
                  directory: str, myid: str, replicas: Iterable[Endpoint],
                  peers: Iterable[SentinelWatch]) -> str:
    """sentinel.conf: the primary to watch, its known replicas and Sentinels, the password.

    Known replicas and Sentinels are listed so that this one need not discover them first
    (a Sentinel asks the primary for its replicas every 10 s, and hears of other Sentinels
    every 2 s): a failover right after the start would otherwise find no replica.
    """
    name, pw = settings.master_name, primary.password
    lines = [f"port {port}", f"bind {bind}", f"dir {directory}", "daemonize no", 'logfile ""',
             "protected-mode yes", f"requirepass {pw}", f"sentinel sentinel-pass {pw}",
             f"sentinel myid {myid}",
             f"sentinel monitor {name} {primary.host} {primary.port} {settings.quorum}",
             f"sentinel auth-pass {name} {pw}",
             *(f"sentinel {key} {name} {value}" for key, value in settings.conf().items()),
             *(f"sentinel known-replica {name} {r.host} {r.port}" for r in replicas),
             *(f"sentinel known-sentinel {name} {p.endpoint.host} {p.endpoint.port} {p.myid}"
               for p in peers)]
    return "".join(f"{line}\n" for line in lines)


def client_endpoint(sentinels: Sequence[Service], primary: Service) -> Endpoint:
    """The endpoint a drill loads a Sentinel-watched Redis through.

    Its addresses are the Sentinels; a client asks them where the primary is
    (``discovery`` ``sentinel:NAME``) and follows a failover. Its password is the
    primary's, shared by every member of the replicated service and its Sentinels.
    """
    names = {s.master_name for s in sentinels if isinstance(s, SentinelWatch)}
    if not sentinels or len(names) != 1 or not all(isinstance(s, SentinelWatch)
                                                   for s in sentinels):
        raise StackError("client_endpoint needs one or more Sentinel services watching the "
                         f"same primary name (got {', '.join(s.name for s in sentinels) or 'none'}"
                         f"; names {sorted(names)})")
    addresses = [(s.endpoint.host, s.endpoint.port) for s in sentinels]
    return Endpoint(kind=primary.endpoint.kind, host=addresses[0][0], port=addresses[0][1],
                    password=primary.endpoint.password, alternates=tuple(addresses[1:]),
                    discovery=f"{SENTINEL_DISCOVERY}{names.pop()}")


@dataclass(frozen=True)
class SentinelEvent:
    """One event a Sentinel published (``+odown``, ``+switch-master``...), when it arrived."""

    at: Instant
    channel: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.to_dict(), "channel": self.channel, "message": self.message}


class SentinelWatch(Service):
    """A Sentinel service: its readiness, the primary it names, failovers and events."""

    #: the service name of the primary it was started to watch
    monitors: str
    #: the primary's name at the Sentinels
    master_name: str
    #: the id this Sentinel runs with (``sentinel myid``), which proves it ours
    myid: str
    #: the stack's services: replicas and other Sentinels it must know before it is ready
    _stack: Mapping[str, Service]

    def await_watched(self, primary: Endpoint, replicas: Iterable[Endpoint],
                      timeout_s: float = 30.0) -> None:
        """Before the first start: wait until the primary answers with every replica online.

        A Sentinel that starts before the primary listens counts the refused connection
        as the primary being down: after ``down_after_ms`` it reports +sdown, and with a
        quorum of 1 it fails over at once, before any fault (seen here: a failover 1.0 s
        after the Sentinels started, the primary healthy). So a stack's Sentinels start
        only once what they watch is up.
        """
        from drills.kinds.redis import store

        wanted = {f"{r.host}:{r.port}" for r in replicas}
        deadline = time.monotonic() + timeout_s
        last = "not asked yet"
        while True:
            try:
                state = store.replication(primary)
                online = {d.name for d in state.downstream if d.state == "online"}
                if state.role == "primary" and wanted <= online:
                    return
                last = (f"it is a {state.role} with replicas online: "
                        f"{', '.join(sorted(online)) or 'none'}; waiting for "
                        f"{', '.join(sorted(wanted - online))}")
            except StackError as exc:
                last = str(exc)
            if time.monotonic() >= deadline:
                raise StackError(f"{self.name}: the primary it watches ({self.monitors} on "
                                 f"{primary.host}:{primary.port}) was not up with its replicas "
                                 f"after {timeout_s:.0f} s, so the Sentinel was not started "
                                 f"(last: {last})")
            time.sleep(0.02)

    def _client(self, timeout_s: float = 2.0) -> redis.Redis:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(host=self.endpoint.host, port=self.endpoint.port,
                           password=self.endpoint.password, socket_connect_timeout=2,
                           socket_timeout=timeout_s, retry=Retry(NoBackoff(), 0),
                           decode_responses=True)

    def _ask(self, *command: str, timeout_s: float = 2.0) -> Any:
        """One command to this Sentinel; StackError (with its reply) if it fails."""
        import redis

        try:
            with self._client(timeout_s) as r:
                return r.execute_command(*command)
        except redis.AuthenticationError as exc:
            raise NotOurServer(f"{self.name}: the server on {self.endpoint.host}:"
                               f"{self.endpoint.port} refused this run's password ({exc}): "
                               "another process holds the port") from exc
        except redis.RedisError as exc:
            raise StackError(f"{self.name}: {' '.join(command)}: {type(exc).__name__}: "
                             f"{exc}") from exc

    def master_state(self) -> dict[str, str]:
        """``SENTINEL MASTER NAME``: its view of the primary (ip, port, flags, counts)."""
        return _pairs(self._ask("SENTINEL", "MASTER", self.master_name))

    def replica_states(self) -> list[dict[str, str]]:
        """``SENTINEL REPLICAS NAME``: its view of each replica."""
        return [_pairs(r) for r in self._ask("SENTINEL", "REPLICAS", self.master_name) or []]

    def identify(self) -> dict[str, str]:
        """Ready: our Sentinel, seeing the primary up, knowing its replicas and its peers."""
        server = self._ask("INFO", "server")
        if not isinstance(server, dict) or server.get("redis_mode") != "sentinel":
            raise NotOurServer(f"{self.name}: the server on {self.endpoint.host}:"
                               f"{self.endpoint.port} is not a Sentinel")
        myid = str(self._ask("SENTINEL", "MYID"))
        if myid != self.myid:
            raise NotOurServer(f"{self.name}: the Sentinel on {self.endpoint.host}:"
                               f"{self.endpoint.port} is not ours (id {myid})")
        master = self.master_state()
        flags = master.get("flags", "").split(",")
        if "master" not in flags or any(f in flags for f in _DOWN):
            raise StackError(f"{self.name}: it sees primary {self.master_name} at "
                             f"{master.get('ip')}:{master.get('port')} as {master.get('flags')}")
        expected = self._replicas_reported(master)
        known = {f"{r.get('ip')}:{r.get('port')}" for r in self.replica_states()
                 if r.get("master-link-status") == "ok"
                 and not any(f in r.get("flags", "").split(",") for f in _DOWN)}
        if expected - known:
            raise StackError(f"{self.name}: it does not yet see replica(s) "
                             f"{', '.join(sorted(expected - known))} of {self.master_name} "
                             f"streaming (it sees: {', '.join(sorted(known)) or 'none'})")
        peers = len(peers_of(self.name, self.monitors, self.master_name, self._stack))
        others = int(master.get("num-other-sentinels", 0))
        if others < peers:
            raise StackError(f"{self.name}: it knows {others} other Sentinel(s) of "
                             f"{self.master_name}; the stack has {peers}")
        return {"version": str(server.get("redis_version")), "myid": myid,
                "primary": f"{master.get('ip')}:{master.get('port')}"}

    def _replicas_reported(self, master: Mapping[str, str]) -> set[str]:
        """The replicas the primary itself reports connected (ip:port)."""
        from drills.kinds.redis import store

        primary = Endpoint(kind="redis", host=str(master.get("ip")),
                           port=int(master.get("port", 0)), password=self.endpoint.password)
        return {d.name for d in store.replication(primary).downstream}

    def primary(self) -> tuple[str, int] | None:
        """Where this Sentinel says the primary is (``SENTINEL GET-MASTER-ADDR-BY-NAME``)."""
        found = self._ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name)
        if not found:
            return None
        return str(found[0]), int(found[1])

    def ckquorum(self) -> str:
        """``SENTINEL CKQUORUM NAME``: whether the Sentinels could authorise a failover now."""
        import redis

        try:
            with self._client() as r:
                return str(r.execute_command("SENTINEL", "CKQUORUM", self.master_name))
        except redis.ResponseError as exc:  # NOQUORUM is an error reply
            return str(exc)
        except redis.RedisError as exc:
            return f"not asked ({type(exc).__name__}: {exc})"

    def logged_events(self, lines: int = 400) -> list[str]:
        """The events in the last ``lines`` of its log ("08:01:00.289 +odown master ...")."""
        found = []
        for line in self.log_tail(lines).splitlines():
            match = _EVENT.match(line.strip())
            if match:
                found.append(f"{match[1]} {match[2]}{match[3]}")
        return found

    def wait_for_primary_change(self, old: tuple[str, int], timeout_s: float,
                                interval: float = 0.02) -> tuple[str, int]:
        """Wait until this Sentinel names another primary than ``old``; returns it.

        RecoveryError after ``timeout_s``, with why no failover happened as far as the
        Sentinels tell: CKQUORUM's answer, the primary's flags, and the last events of
        this Sentinel's log (+sdown without +odown: too few Sentinels agreed; +odown and
        -failover-abort-*: no replica could be promoted).
        """
        deadline = time.monotonic() + timeout_s
        last = "not asked yet"
        while True:
            try:
                now = self.primary()
                last = f"it names {now[0]}:{now[1]}" if now else "it names no primary"
                if now is not None and now != tuple(old):
                    return now
            except StackError as exc:
                last = str(exc)
            if time.monotonic() >= deadline:
                raise RecoveryError(self._no_failover(old, timeout_s, last))
            time.sleep(interval)

    def _no_failover(self, old: tuple[str, int], timeout_s: float, last: str) -> str:
        try:
            flags = self.master_state().get("flags", "?")
        except StackError as exc:
            flags = f"unknown ({exc})"
        events = self.logged_events()[-12:]
        return (f"{self.name}: no failover of {self.master_name} away from {old[0]}:{old[1]} "
                f"within {timeout_s:.1f} s ({last}). CKQUORUM: {self.ckquorum()}. The primary's "
                f"flags: {flags}. Its last events: {'; '.join(events) or 'none'}")

    def events(self) -> SentinelEvents:
        """A recorder of the events this Sentinel publishes, from ``__enter__`` on."""
        return SentinelEvents(self)

    def unready_hint(self, last: str) -> str:
        if "does not yet see replica" in last:
            return ("A Sentinel learns replicas from the primary's INFO every 10 s; check "
                    "that the replicas' links are up")
        return ""


class SentinelEvents:
    """Every event one Sentinel publishes, stamped when it arrived (``psubscribe *``).

    A context manager: subscribed when ``__enter__`` returns, so an event of a fault
    injected afterwards is not missed; the listener thread stops at ``__exit__``.
    """

    def __init__(self, sentinel: SentinelWatch) -> None:
        self.sentinel = sentinel
        self._events: list[SentinelEvent] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def __enter__(self) -> SentinelEvents:
        import redis

        self._client = self.sentinel._client(timeout_s=5)
        self._pubsub = self._client.pubsub()
        try:
            self._pubsub.psubscribe("*")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                message = self._pubsub.get_message(timeout=0.1)
                if message and message.get("type") == "psubscribe":
                    break
            else:
                raise StackError(f"{self.sentinel.name}: no answer to PSUBSCRIBE in 5 s")
        except (redis.RedisError, StackError) as exc:
            self._close()
            raise StackError(f"{self.sentinel.name}: cannot listen to its events: {exc}") \
                from exc
        self._thread = threading.Thread(target=self._listen, name=f"{self.sentinel.name}-events",
                                        daemon=True)
        self._thread.start()
        return self

    def _listen(self) -> None:
        import redis

        try:
            while not self._stop.is_set():
                message = self._pubsub.get_message(timeout=0.05)
                if message and message.get("type") == "pmessage":
                    event = SentinelEvent(Instant.now(), str(message["channel"]),
                                          str(message["data"]))
                    with self._arrived:
                        self._events.append(event)
                        self._arrived.notify_all()
        except redis.RedisError as exc:  # the Sentinel went away: what arrived stays
            self.error = f"{type(exc).__name__}: {exc}"

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._close()

    def _close(self) -> None:
        try:
            self._pubsub.close()
        finally:
            self._client.close()

    def seen(self) -> list[SentinelEvent]:
        with self._lock:
            return list(self._events)

    def first(self, channel: str, after: float = 0.0) -> SentinelEvent | None:
        """The first ``channel`` event that arrived after monotonic time ``after``."""
        return next((e for e in self.seen() if e.channel == channel and e.at.mono > after),
                    None)

    def wait_for(self, channel: str, timeout_s: float, after: float = 0.0
                 ) -> SentinelEvent | None:
        """The first ``channel`` event after ``after``, waiting up to ``timeout_s`` for it."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while True:
                found = next((e for e in self._events
                              if e.channel == channel and e.at.mono > after), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    return found
                self._arrived.wait(left)


def _pairs(reply: Any) -> dict[str, str]:
    """A flat [key, value, key, value...] reply as a mapping (printable values)."""
    if isinstance(reply, dict):
        return {str(k): str(v) for k, v in reply.items()}
    items = list(reply or [])
    return {str(k): printable(v) for k, v in zip(items[::2], items[1::2], strict=False)}
