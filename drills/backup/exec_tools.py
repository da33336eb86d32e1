"""Running a server's own tools (pg_dump, redis-check-rdb) for backups and recoveries.

One helper, so that every failure says the same things: which service, which command,
its exit status and the end of what it printed.
"""

from __future__ import annotations

from collections.abc import Sequence

from drills.backup import output_of
from drills.errors import DrillError, StackError
from drills.stack.capabilities import Exec, ExecResult


def run_tool(service: Exec, name: str, argv: Sequence[str], error: type[DrillError],
             timeout_s: float = 600.0) -> ExecResult:
    """Run ``argv`` in ``service``'s environment; ``error`` naming it all if it fails."""
    try:
        done = service.exec(argv, timeout_s=timeout_s)
    except StackError as exc:  # it did not finish in time: the step failed, say which
        raise error(f"{name}: {exc}") from exc
    if done.returncode != 0:
        raise error(f"{name}: {' '.join(argv[:3])}{' ...' if len(argv) > 3 else ''} failed "
                    f"(exit {done.returncode}): {output_of(done.stderr or done.stdout, 1500)}")
    return done
