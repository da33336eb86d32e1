"""What a version 2 plan scenario does: its fault, its recovery steps and its checks.

A scenario is one of three sources: a built-in drill of drills' catalogue (``builtin``),
the team's own Python drill marked ``@pytest.mark.drill(NAME)`` (``code``), or steps the
plan spells out (``steps``): a fault on a service of the stack, an ordered recovery, and
checks after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from drills.plan.spans import span


class Source(StrEnum):
    BUILTIN = "builtin"
    CODE = "code"
    STEPS = "steps"


class FaultAction(StrEnum):
    """The faults a plan can name, each on one service of its stack."""

    KILL = "kill"  # SIGKILL its processes (a crash)
    FREEZE = "freeze"  # SIGSTOP / docker pause for ``for``, then resume
    LOSE_SERVER = "lose_server"  # the server and its data gone
    PROCEDURE = "procedure"  # the team's own chaos command


FAULT_HELP = {
    FaultAction.KILL: "SIGKILL every process of the service (a crash); not restarted by drills",
    FaultAction.FREEZE: "suspend the service (SIGSTOP / docker pause) for `for`, then resume it",
    FaultAction.LOSE_SERVER: "kill the service and delete its data (directory or volumes)",
    FaultAction.PROCEDURE: "run the team's own chaos command (t_fault: when it started)",
}


@dataclass(frozen=True)
class FaultSpec:
    action: FaultAction
    service: str
    for_s: float | None = None  # freeze: how long
    procedure: str | None = None  # procedure: which

    def describe(self) -> str:
        if self.action is FaultAction.PROCEDURE:
            return f"procedure {self.procedure} (the team's command) against {self.service}"
        if self.action is FaultAction.FREEZE:
            return f"freeze {self.service} for {span(self.for_s or 0.0)}, then resume it"
        return f"{self.action.value.replace('_', ' ')} {self.service}"

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action.value, "service": self.service, "for_s": self.for_s,
                "procedure": self.procedure}


class StepAction(StrEnum):
    """Recovery steps a plan can name."""

    RESTART = "restart"  # start the service again, wait until it answers
    PROVISION = "provision"  # a new, empty server in place of a lost one
    PROCEDURE = "procedure"  # the team's own command
    MANUAL = "manual"  # a person's step with a stated duration; not measured
    PROMOTE = "promote"  # a replica (the most advanced of several) becomes the primary
    REPOINT = "repoint"  # wait until the clients of a replicated service reach its new primary
    FENCE = "fence"  # the old primary stops accepting writes (read-only), still readable
    REJOIN = "rejoin"  # the old primary rewound and started as a replica of the new one


class Phase(StrEnum):
    """The RTO phases a plan can set limits on (docs/measurement.md rule 5)."""

    DETECTION = "detection"  # fault until the drill saw the service fail
    DECISION = "decision"  # someone decides what to do (usually a manual step)
    EXECUTION = "execution"  # the recovery procedure itself
    VERIFICATION = "verification"  # the procedure's end until the service answers right


@dataclass(frozen=True)
class StepSpec:
    action: StepAction
    #: the service (restart, provision, failover steps), procedure name or the manual
    #: step's text
    target: str
    phase: Phase = Phase.EXECUTION
    takes_s: float | None = None  # manual: the duration the plan states
    #: promote: the replicas to choose from (the most advanced is promoted); else empty
    among: tuple[str, ...] = ()

    @property
    def measured(self) -> bool:
        return self.action is not StepAction.MANUAL

    def describe(self) -> str:
        match self.action:
            case StepAction.PROMOTE if len(self.among) > 1:
                return (f"promote the most advanced of {', '.join(self.among)} (the one that "
                        "received the most WAL)")
            case StepAction.REPOINT:
                return f"repoint: wait until the clients of {self.target} reach its new primary"
            case StepAction.REJOIN:
                return f"rejoin {self.target} as a replica of the promoted primary (pg_rewind)"
            case StepAction.MANUAL:
                return (f"manual: {self.target} (stated {span(self.takes_s or 0.0)}, "
                        "counted in the RTO, not measured)")
            case StepAction.PROCEDURE:
                return f"procedure {self.target}"
            case _:
                return f"{self.action.value} {self.target}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action.value, "target": self.target,
                               "phase": self.phase.value, "takes_s": self.takes_s,
                               "measured": self.measured}
        if self.among:
            out["among"] = list(self.among)
        return out


class CheckKind(StrEnum):
    LEDGER = "ledger"  # drills' write ledger in the team's store: the RPO
    HTTP = "http"  # a request answered with the expected status
    SQL = "sql"  # a query returning one number, within a bound
    REDIS = "redis"  # a Redis command returning one number, within a bound
    MONGODB = "mongodb"  # a count of MongoDB documents matching a filter, within a bound
    COMMAND = "command"  # a command of the team's that exits 0 while all is well


@dataclass(frozen=True)
class Bound:
    at_least: float | None = None
    at_most: float | None = None
    equals: float | None = None

    def holds(self, value: float) -> bool:
        return ((self.at_least is None or value >= self.at_least)
                and (self.at_most is None or value <= self.at_most)
                and (self.equals is None or value == self.equals))

    def describe(self) -> str:
        parts = []
        if self.equals is not None:
            parts.append(f"= {self.equals:g}")
        if self.at_least is not None:
            parts.append(f">= {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"<= {self.at_most:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class CheckSpec:
    """A check after recovery: pass, fail, or could not verify."""

    kind: CheckKind
    service: str | None = None
    url: str | None = None
    method: str = "GET"
    status: int = 200
    query: str | None = None
    command: tuple[str, ...] = ()
    bound: Bound | None = None
    timeout_s: float = 10.0

    def describe(self) -> str:
        bound = self.bound.describe() if self.bound else ""
        match self.kind:
            case CheckKind.LEDGER:
                return f"the write ledger in {self.service}: every acknowledged write is there"
            case CheckKind.HTTP:
                return f"{self.method} {self.url} answers {self.status}"
            case CheckKind.SQL:
                return f"on {self.service}: `{self.query}` {bound}"
            case CheckKind.MONGODB:
                return f"on {self.service}: count of {self.query} {bound}"
            case CheckKind.COMMAND:
                return f"`{' '.join(self.command)}` exits 0"
            case _:
                return f"on {self.service}: `{' '.join(self.command)}` {bound}"

    def to_dict(self) -> dict[str, Any]:
        bound = self.bound
        return {"kind": self.kind.value, "service": self.service, "url": self.url,
                "method": self.method, "status": self.status, "query": self.query,
                "command": list(self.command), "timeout_s": self.timeout_s,
                "bound": None if bound is None else {"at_least": bound.at_least,
                                                     "at_most": bound.at_most,
                                                     "equals": bound.equals}}


@dataclass(frozen=True)
class DetectSpec:
    """How the plan says the damage is found: a monitor polled from the fault on, or a person.

    A monitor is a check (SQL, Redis or HTTP) that holds while all is well; the damage is
    detected when it first fails. It never runs before the fault (so never before the
    stack's setup has loaded the data), and is not the readiness health check. A manual
    detection is a person noticing, with the duration the plan states.
    """

    monitor: CheckSpec | None = None
    every_s: float = 1.0
    manual: str | None = None
    takes_s: float | None = None

    def describe(self) -> str:
        if self.monitor is not None:
            return (f"detect: poll every {span(self.every_s)} from the fault on until this "
                    f"monitor fails: {self.monitor.describe()}; after recovery it must pass "
                    "again (counted in the RTO)")
        return (f"detect: manual: {self.manual} (stated {span(self.takes_s or 0.0)}, counted "
                "in the RTO's detection phase, not measured)")

    def to_dict(self) -> dict[str, Any]:
        return {"monitor": self.monitor.to_dict() if self.monitor else None,
                "every_s": self.every_s, "manual": self.manual, "takes_s": self.takes_s}
