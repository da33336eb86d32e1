"""Health checks of a plan's services, and the probe that includes them.

A check is an HTTP request answered with the expected status, or a command that exits 0
(``pg_isready``), each within its timeout. With a plan's stack the steady-state probe is
the write ledger's (a write acknowledged and read back) followed by every service's
health check: the service "answers correctly again" (RTO, docs/measurement.md rule 5) only when
the whole stack says so.
"""

from __future__ import annotations

import http.client
import subprocess
import urllib.parse
from collections.abc import Sequence

from drills.datastore import Probe, ProbeFailed
from drills.plan.stack_spec import HealthCheck


def run_health(check: HealthCheck, service: str) -> str:
    """Run one check; ProbeFailed naming the service and what it saw, else what passed."""
    if check.url is not None:
        parts = urllib.parse.urlsplit(check.url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else \
            http.client.HTTPConnection
        conn = kind(parts.hostname or "", parts.port, timeout=check.timeout_s)
        try:
            conn.request(check.method, parts.path + (f"?{parts.query}" if parts.query else "")
                         or "/")
            answer = conn.getresponse()
            answer.read(65536)
        except (OSError, http.client.HTTPException) as exc:
            raise ProbeFailed(f"{service}: {check.method} {check.url}: "
                              f"{type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        if answer.status != check.status:
            raise ProbeFailed(f"{service}: {check.method} {check.url} answered "
                              f"{answer.status}, not {check.status}")
        return f"{check.method} {check.url}: {answer.status}"
    try:
        done = subprocess.run(list(check.command), capture_output=True, text=True,
                              timeout=check.timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProbeFailed(f"{service}: `{' '.join(check.command)}`: {exc}") from exc
    if done.returncode != 0:
        raise ProbeFailed(f"{service}: `{' '.join(check.command)}` exited {done.returncode}: "
                          f"{(done.stderr or done.stdout).strip()[-300:]}")
    return f"`{' '.join(check.command)}`: exit 0"


class HealthyProbe:
    """The ledger's probe, then each service's health check: all must pass."""

    def __init__(self, ledger: Probe, checks: Sequence[tuple[str, HealthCheck]]) -> None:
        self.ledger = ledger
        self.checks = tuple(checks)

    def attempt(self, seq: int) -> None:
        self.ledger.attempt(seq)
        for service, check in self.checks:
            run_health(check, service)

    def close(self) -> None:
        self.ledger.close()
