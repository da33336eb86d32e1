"""An HAProxy service as drills sees it: its statistics page, its identity, its readiness.

Identity: the stats page lists a proxy named after the service with exactly the servers
the run configured. Ready: that, and every server's first health check is done, so the
frontend forwards to the member the check selects, not to all of them as HAProxy does
before its first checks.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass

from drills.errors import NotOurServer, ServiceNotReady, StackError
from drills.stack.http_json import request
from drills.stack.service import Service


@dataclass(frozen=True)
class ServerState:
    """One server line of the stats page: HAProxy's status and its last check's."""

    name: str
    status: str  # UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (going up), MAINT, no check
    check: str  # L7OK, L7STS, L4CON, INI...

    @property
    def up(self) -> bool:
        """Whether HAProxy forwards to it: UP, and "UP 1/2" too (failing, not yet down)."""
        return self.status.startswith("UP")

    @property
    def settled(self) -> bool:
        """Its first check is done and it is not between states."""
        return self.status in ("UP", "DOWN") and not self.check.startswith("INI") \
            and self.check != ""


class HaproxyServer(Service):
    """HAProxy in front of Patroni members; ``backends`` are their service names."""

    stats_host: str
    stats_port: int
    backends: tuple[str, ...]

    def servers(self) -> dict[str, ServerState]:
        """Each server of this service's proxy, as the stats page shows it now."""
        answer = request(self.stats_host, self.stats_port, "GET", "/stats;csv;norefresh",
                         timeout_s=1.0, what=f"HAProxy {self.name}")
        if answer.status != 200:
            raise StackError(f"HAProxy {self.name}: stats page answered HTTP {answer.status}")
        rows = csv.DictReader(answer.text.lstrip("# ").splitlines())
        return {row["svname"]: ServerState(row["svname"], row.get("status") or "",
                                           (row.get("check_status") or "").strip())
                for row in rows
                if row.get("pxname") == self.name and row.get("svname") not in
                ("FRONTEND", "BACKEND")}

    def up(self) -> list[str]:
        """The servers HAProxy forwards to now (with check ``primary``: the leader)."""
        return [s.name for s in self.servers().values() if s.up]

    def identify(self) -> dict[str, str]:
        found = self.servers()
        if sorted(found) != sorted(self.backends):
            raise NotOurServer(
                f"the HAProxy on {self.stats_host}:{self.stats_port} is not ours: proxy "
                f"{self.name!r} lists servers {sorted(found) or 'none'}, expected "
                f"{sorted(self.backends)}. Another process holds the port.")
        return {"servers": ", ".join(f"{s.name} {s.status}" for s in found.values())}

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.05) -> float:
        """Identity proven and every server checked once."""
        start = time.monotonic()
        last = "not checked yet"
        while True:
            try:
                found = self.identify()
                unsettled = [s for s in self.servers().values() if not s.settled]
                if not unsettled:
                    return time.monotonic() - start
                last = f"health checks not settled yet ({found['servers']})"
            except NotOurServer:
                raise
            except StackError as exc:
                last = str(exc)
            waited = time.monotonic() - start
            if waited >= timeout or not self.alive():
                raise ServiceNotReady(self.name, waited, last, self.log_tail())
            time.sleep(interval)
