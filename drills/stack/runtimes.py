"""Choosing the runtime: ``compose`` where an engine answers with the images, else ``local``."""

from __future__ import annotations

from drills.errors import DrillError, UsageError, printable
from drills.stack.stack import Runtime

RUNTIMES = ("auto", "local", "compose")


def resolve(name: str) -> tuple[str, str]:
    """The concrete runtime for ``name`` and a sentence saying why."""
    if name not in RUNTIMES:
        raise UsageError(f"unknown runtime {printable(repr(name))} (from --runtime or "
                         f"DRILLS_RUNTIME); available: {', '.join(RUNTIMES)}")
    if name == "local":
        return "local", "asked for"
    from drills.stack.engine import check_engine

    check = check_engine()
    if name == "compose":
        if not check.usable:
            raise DrillError(f"--runtime compose cannot run: {check.reason}")
        return "compose", f"asked for; {check.reason}"
    if check.usable:
        return "compose", check.reason
    return "local", check.reason


def factory(name: str) -> type[Runtime]:
    """The runtime class for a concrete runtime name."""
    if name == "local":
        from drills.stack.local import LocalRuntime

        return LocalRuntime
    if name == "compose":
        from drills.stack.compose import ComposeRuntime

        return ComposeRuntime
    raise DrillError(f"unknown runtime {name!r}; resolve 'auto' first")
