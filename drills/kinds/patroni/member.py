"""A Patroni member as drills sees it: its REST API, its role, the cluster's leader.

Shared by the local and the compose runtime (each adds how its process runs). The REST
API answers GET without a password (HAProxy's health checks use it) and POST only with
the cluster's REST password (``switchover``). Every call is bounded by a short timeout:
a member that does not answer is a fact to report, not a reason to hang.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from drills.errors import NotOurServer, RecoveryError, ServiceNotReady, StackError
from drills.kinds.etcd.server import read_keys
from drills.kinds.patroni.cluster import Cluster
from drills.record.action import Action
from drills.record.clock import Instant
from drills.stack.http_json import request
from drills.stack.service import Service

#: what Patroni 3.0 calls the leader in /patroni (3.0: master; later: primary)
LEADER_ROLES = ("master", "primary")
#: how long a REST call may take before the member counts as not answering
REST_TIMEOUT_S = 1.0


class PatroniMember(Service):
    """One PostgreSQL server managed by Patroni, member of ``cluster``."""

    cluster: Cluster
    rest_host: str
    rest_port: int
    #: the data directory as the server reports it (identity)
    data_directory: str

    # -- REST API ----------------------------------------------------------------------

    def _get(self, path: str, host: str | None = None, port: int | None = None) -> Any:
        answer = request(host or self.rest_host, port or self.rest_port, "GET", path,
                         timeout_s=REST_TIMEOUT_S, what=f"Patroni {self.name}")
        found = answer.json()
        if found is None:
            raise StackError(f"Patroni {self.name}: GET {path}: HTTP {answer.status}: "
                             f"{answer.text.strip()[:200]}")
        return found

    def rest_state(self) -> dict[str, Any]:
        """Patroni's ``GET /patroni``: role (master/replica), state, timeline, xlog..."""
        found: dict[str, Any] = self._get("/patroni")
        return found

    def cluster_state(self) -> dict[str, Any]:
        """Patroni's ``GET /cluster`` from this member: every member as the DCS lists it."""
        found: dict[str, Any] = self._get("/cluster")
        return found

    def leader(self) -> str | None:
        """The leader's member name, from the first member whose REST API answers.

        None when a member answered and the DCS lists no leader; StackError naming each
        member's failure when none answered.
        """
        failures = []
        for member in self._peers():
            try:
                found = member.cluster_state()
            except StackError as exc:
                failures.append(str(exc))
                continue
            return leader_of(found)
        raise StackError(f"no member of Patroni cluster {self.cluster.scope} answered: "
                         + "; ".join(failures))

    def sync_standbys(self) -> list[str]:
        """The members Patroni made synchronous standbys (synchronous_mode), per the DCS."""
        return [str(m.get("name")) for m in self.cluster_state().get("members") or []
                if m.get("role") == "sync_standby"]

    def _peers(self) -> list[PatroniMember]:
        """Every member of its cluster, itself first."""
        return [self, *(m for m in self.cluster.members if m is not self)]

    def wait_for_leader(self, timeout_s: float, other_than: str | None = None,
                        interval_s: float = 0.2) -> str:
        """The leader's name once the cluster has one (not ``other_than``).

        RecoveryError after ``timeout_s``, naming why: what etcd holds under the
        leader key (or that it does not answer), and each member's REST answer.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                found = self.leader()
            except StackError:
                found = None
            if found is not None and found != other_than:
                for member in self.cluster.members:
                    if member.name == found and _leads(member):
                        return found
            if time.monotonic() >= deadline:
                raise RecoveryError(
                    f"Patroni cluster {self.cluster.scope} has no leader"
                    f"{f' other than {other_than}' if other_than else ''} after "
                    f"{timeout_s:g} s: {self.why_no_leader()}")
            time.sleep(interval_s)

    def why_no_leader(self) -> str:
        """What the DCS and every member say: for errors and the timeline."""
        key = self.cluster.key("leader")
        try:
            held = read_keys(self.cluster.dcs_host, self.cluster.dcs_port, key)
            dcs = f"leader key {key} held by {held[key]!r}" if key in held else \
                f"no leader key {key}"
            dcs = f"etcd {self.cluster.dcs_name}: {dcs}"
        except StackError as exc:
            dcs = f"etcd {self.cluster.dcs_name} unreachable ({exc})"
        said = []
        for member in self._peers():
            try:
                state = member.rest_state()
                said.append(f"{member.name}: role {state.get('role')}, state "
                            f"{state.get('state')}, timeline {state.get('timeline')}")
            except StackError as exc:
                said.append(f"{member.name}: REST API does not answer ({exc})")
        return f"{dcs}; " + "; ".join(said)

    # -- identity and readiness ----------------------------------------------------------

    def identify(self) -> Mapping[str, str]:
        from drills.kinds.postgres import store

        return store.identify(self.endpoint, {"data_directory": self.data_directory})

    def wait_ready(self, timeout: float = 60.0, interval: float = 0.05) -> float:
        """Ready: Patroni runs PostgreSQL here as the leader or as a streaming replica."""
        start = time.monotonic()
        last = "not checked yet"
        while True:
            try:
                last = self._ready_or_why()
                if not last:
                    return time.monotonic() - start
            except NotOurServer:
                raise
            except StackError as exc:
                last = str(exc)
            waited = time.monotonic() - start
            if waited >= timeout or not self.alive():
                raise ServiceNotReady(self.name, waited, f"{last}. {self.unready_hint(last)}",
                                      self.log_tail())
            time.sleep(interval)

    def _ready_or_why(self) -> str:
        """'' when ready, else what is missing."""
        state = self.rest_state()
        role, running = state.get("role"), state.get("state")
        if running != "running" or role not in (*LEADER_ROLES, "replica"):
            return f"Patroni says role {role}, state {running}"
        self.identify()
        if role == "replica":
            import psycopg

            from drills.kinds.postgres import store

            try:
                with store.connect(self.endpoint) as conn:
                    row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
            except psycopg.Error as exc:  # restarting, or in crash recovery: ask again
                return f"a replica whose WAL receiver cannot be read ({exc})".strip()
            if row is None or row[0] != "streaming":
                return f"a replica that is not streaming yet ({row[0] if row else 'no'} " \
                       "WAL receiver)"
        return ""

    def unready_hint(self, last: str) -> str:
        try:
            read_keys(self.cluster.dcs_host, self.cluster.dcs_port, self.cluster.key("leader"))
        except StackError as exc:
            return (f"Its DCS, etcd {self.cluster.dcs_name} on {self.cluster.dcs_host}:"
                    f"{self.cluster.dcs_port}, is unreachable ({exc}): Patroni waits for it "
                    "and starts no PostgreSQL until it answers. Check that service first.")
        return "Its DCS answers; see Patroni's log below."


def leader_of(cluster: Mapping[str, Any]) -> str | None:
    """The leader's name in a ``GET /cluster`` answer (None: no leader)."""
    for member in cluster.get("members") or []:
        if member.get("role") in ("leader", *LEADER_ROLES):
            return str(member.get("name"))
    return None


def _leads(member: PatroniMember) -> bool:
    """Whether ``member`` itself says it runs PostgreSQL as the leader."""
    try:
        state = member.rest_state()
    except StackError:
        return False
    return state.get("role") in LEADER_ROLES and state.get("state") == "running"


def switchover(member: PatroniMember, candidate: PatroniMember | str,
               timeout_s: float = 60.0) -> Action:
    """A planned switchover to ``candidate``, asked of ``member``'s REST API.

    ``POST /switchover {leader, candidate}``: Patroni demotes the leader, promotes the
    candidate, and answers once it is done. The action took effect when the answer came.
    RecoveryError when there is no leader or Patroni refuses (412: not possible).
    """
    name = candidate if isinstance(candidate, str) else candidate.name
    try:
        leader = member.leader()
    except StackError as exc:
        raise RecoveryError(f"switchover to {name}: {exc}") from exc
    if leader is None:
        raise RecoveryError(f"switchover to {name}: cluster {member.cluster.scope} has no "
                            f"leader ({member.why_no_leader()})")
    body = {"leader": leader, "candidate": name}
    sent = Instant.now()
    try:
        answer = request(member.rest_host, member.rest_port, "POST", "/switchover", body,
                         timeout_s=timeout_s, auth=member.cluster.rest_auth,
                         what=f"Patroni {member.name}")
    except StackError as exc:
        raise RecoveryError(f"switchover from {leader} to {name}: {exc}") from exc
    done = Instant.now()
    if answer.status != 200:
        raise RecoveryError(f"switchover from {leader} to {name}: Patroni {member.name} "
                            f"answered HTTP {answer.status}: {answer.text.strip()[:300]}")
    return Action(f"POST /switchover {json.dumps(body)} to Patroni's REST API on "
                  f"{member.name}: {answer.text.strip()[:200]}", done,
                  {"from": leader, "to": name, "sent_mono": sent.mono,
                   "took_s": round(done.mono - sent.mono, 3)})
