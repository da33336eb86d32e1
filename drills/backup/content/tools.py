"""The checking tools on the drill's own host: finding them, running them, their absence.

A team's backup lands on the host (in the directory drills gives its backup job), so it is
checked with the host's tools: ``pg_restore`` from PostgreSQL's client programs and
``redis-check-rdb`` / ``redis-check-aof`` from Redis's tools. A tool that is not installed,
or that does not finish, means the content could not be verified (docs/measurement.md
rule 8): never a pass, and never a failure of the backup either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from drills.backup import BackupVerification
from drills.errors import printable

#: where Debian installs each PostgreSQL major version's programs (``15/bin``)
DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")

#: how to get each tool, for the message when it is missing
INSTALL = {
    "pg_restore": "install PostgreSQL's client programs, at least as new as the pg_dump "
                  "that made the dump (Debian: apt-get install postgresql-client-15; newer "
                  "versions from the PGDG packages), or set DRILLS_PG_BINDIR to the directory "
                  "that holds such a pg_restore",
    "redis-check-rdb": "apt-get install redis-tools (a version at least as new as the Redis "
                       "that wrote the file)",
    "redis-check-aof": "apt-get install redis-tools (a version at least as new as the Redis "
                       "that wrote the file)",
}


@dataclass(frozen=True)
class ToolRun:
    """What a checking tool did: its exit status and what it printed (as text)."""

    argv: tuple[str, ...]
    returncode: int
    output: str  # stdout then stderr

    def tail(self, limit: int = 600) -> str:
        """The end of its output, safe to show: the lines that say what went wrong."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        return printable("; ".join(lines)[-limit:].rstrip("."), limit)


class ToolMissing(Exception):
    """The tool is not installed (or not where the drill looks)."""


class ToolTimedOut(Exception):
    """The tool did not finish in the time given."""


def find(tool: str) -> Path:
    """The newest ``tool`` on this host; ToolMissing if there is none."""
    candidates: list[Path] = []
    if tool == "pg_restore":
        configured = os.environ.get("DRILLS_PG_BINDIR")
        if configured:
            candidates.append(Path(configured) / tool)
        candidates += sorted(DEBIAN_POSTGRESQL.glob(f"*/bin/{tool}"),
                             key=lambda p: _major(p.parent.parent.name), reverse=True)
    elif tool.startswith("redis-"):
        server = os.environ.get("DRILLS_REDIS_SERVER")
        if server:  # the check tools are installed beside the server
            candidates.append(Path(server).parent / tool)
    on_path = shutil.which(tool)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ToolMissing(tool)


def _major(name: str) -> int:
    return int(name) if name.isdigit() else 0


def run(tool: str, args: Sequence[str], timeout_s: float) -> ToolRun:
    """Run ``tool args`` (never through a shell, stdin closed); ToolMissing, ToolTimedOut."""
    argv = (str(find(tool)), *args)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolTimedOut(tool) from exc
    except OSError as exc:  # found a moment ago, gone or not runnable now
        raise ToolMissing(tool) from exc
    output = (done.stdout + done.stderr).decode(errors="replace")
    return ToolRun(argv, done.returncode, output)


def missing(tool: str, command: str, what: str) -> BackupVerification:
    """Could not verify ``what``: ``tool`` is not installed; how to install it."""
    return BackupVerification(None, command, f"{what}: could not verify its content, {tool} is not "
                              f"installed on this host. To check it: {INSTALL[tool]}")


def timed_out(tool: str, command: str, what: str, timeout_s: float) -> BackupVerification:
    """Could not verify ``what``: ``tool`` did not finish in ``timeout_s``."""
    return BackupVerification(
        None, command, f"{what}: could not verify its content, {tool} did not "
        f"finish in {timeout_s:.0f} s (a larger backup job timeout gives it "
        "longer)")


def attempt(tool: str, args: Sequence[str], command: str, what: str,
            timeout_s: float) -> ToolRun | BackupVerification:
    """``run``, with a missing tool or a timeout turned into its "could not verify"."""
    try:
        return run(tool, args, timeout_s)
    except ToolMissing:
        return missing(tool, command, what)
    except ToolTimedOut:
        return timed_out(tool, command, what, timeout_s)
