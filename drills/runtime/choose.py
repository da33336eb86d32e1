"""Choosing the runtime: ``compose`` where an engine answers with the images, else ``local``.

The images asked for are those of the scenarios selected (``kinds_needed``): a run of
``postgres-kill`` does not need the Toxiproxy image.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from drills.errors import DrillError, UsageError, printable
from drills.stack.stack import Runtime

if TYPE_CHECKING:
    from drills.plan import Plan

RUNTIMES = ("auto", "local", "compose")


def resolve(name: str, kinds: Collection[str] | None = None) -> tuple[str, str]:
    """The concrete runtime for ``name`` and a sentence saying why.

    ``kinds``: the kinds of service the run brings up (None: every kind); the compose
    runtime needs their images only. A compose runtime that cannot run is a usage error:
    the environment cannot do what was asked, and nothing has started.
    """
    if name not in RUNTIMES:
        raise UsageError(f"unknown runtime {printable(repr(name))} (from --runtime or "
                         f"DRILLS_RUNTIME); available: {', '.join(RUNTIMES)}")
    if name == "local":
        return "local", "asked for"
    from drills.runtime.engine_check import check_engine

    check = check_engine(kinds)
    if name == "compose":
        if not check.usable:
            raise UsageError(f"--runtime compose cannot run: {check.reason}")
        return "compose", f"asked for; {check.reason}"
    if check.usable:
        return "compose", check.reason
    return "local", check.reason


def factory(name: str) -> type[Runtime]:
    """The runtime class for a concrete runtime name."""
    if name == "local":
        from drills.runtime.local import LocalRuntime

        return LocalRuntime
    if name == "compose":
        from drills.runtime.compose import ComposeRuntime

        return ComposeRuntime
    raise DrillError(f"unknown runtime {name!r}; resolve 'auto' first")


def refused_on(runtime: str, plan: Plan, scenarios: Iterable[str]) -> list[str]:
    """The built-in scenarios among ``scenarios`` that do not run on ``runtime``, said why."""
    from drills.catalogue import CATALOGUE

    refused = []
    for name in scenarios:
        scenario = plan.scenarios.get(name)
        info = CATALOGUE.get(scenario.catalogue_name) if scenario is not None else None
        if info is not None and runtime not in info.runtimes:
            refused.append(f"{name} runs on the {', '.join(info.runtimes)} runtime only")
    return refused


def kinds_needed(plan: Plan, scenarios: Iterable[str]) -> frozenset[str] | None:
    """The kinds of service the plan's ``scenarios`` bring up; None when it cannot be told.

    A built-in drill runs its catalogue kind; one of a kind that serves HTTP (the reference
    app) runs the whole stack behind it, so every kind. A plan's spelled-out scenario runs
    the servers of the plan's stack (none of drills' when the stack is the team's own
    compose project). A team's own Python drill can bring up anything.
    """
    from drills import kinds
    from drills.catalogue import CATALOGUE
    from drills.plan.scenario_spec import Source

    needed: set[str] = set()
    for name in scenarios:
        scenario = plan.scenarios.get(name)
        if scenario is None or scenario.source is Source.CODE:
            return None
        if scenario.source is Source.STEPS:
            if plan.stack is not None and not plan.stack.own:
                needed |= {s.kind for s in plan.stack.services.values()
                           if kinds.find(s.kind) is not None}
            continue
        info = CATALOGUE.get(scenario.catalogue_name)
        if info is None or kinds.get(info.kind).serves_http:
            return None
        needed.add(info.kind)
        needed.update(info.more_kinds)
    return frozenset(needed)
