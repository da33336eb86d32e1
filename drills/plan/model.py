"""The plan as drills uses it: frozen objects, with every default applied."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.errors import PlanError
from drills.plan.procedure_spec import BackupJob, Procedure
from drills.plan.scenario_spec import CheckSpec, DetectSpec, FaultSpec, Source, StepSpec
from drills.plan.stack_spec import StackSpec


@dataclass(frozen=True)
class Targets:
    """What the plan promises for one scenario; None means not promised."""

    rto_s: float | None = None
    rpo_s: float | None = None
    max_lost_writes: int | None = None
    #: the fraction of writes acknowledged while the fault is in place (0.99 for 99 %)
    availability: float | None = None
    #: the 99th percentile of write latency while the fault is in place
    p99_latency_s: float | None = None
    #: limits on RTO phases (drills.plan.scenario_spec.Phase), seconds
    phases: Mapping[str, float] = field(default_factory=dict)
    #: writes acknowledged after the fault began may be lost if acknowledged within this
    #: long of it (drills.measure.loss); None: none may be
    discard_window_s: float | None = None

    @property
    def states_loss(self) -> bool:
        """Whether the plan states what loss it accepts before the fault."""
        return self.rpo_s is not None or self.max_lost_writes is not None

    def to_dict(self) -> dict[str, Any]:
        out = {"rto_s": self.rto_s, "rpo_s": self.rpo_s, "max_lost_writes": self.max_lost_writes,
               "availability": self.availability, "p99_latency_s": self.p99_latency_s,
               "phases": dict(self.phases)}
        if self.discard_window_s is not None:  # only then: other drills keep their digest
            out["discard_window_s"] = self.discard_window_s
        return out


@dataclass(frozen=True)
class Acceptance:
    """A gap the team accepts: a target the plan cannot hold on its real schedule.

    ``drill check`` and ``drill run`` still show it, as accepted, until ``until``; after
    that day it fails again (drills.measure.plan_gaps).
    """

    target: str  # rpo, rto, max_lost_writes, phases or phases.PHASE
    reason: str
    by: str  # who signed it off
    until: str  # ISO date, the last day it holds

    def covers(self, target: str) -> bool:
        return self.target == target or (self.target == "phases"
                                         and target.startswith("phases."))

    def to_dict(self) -> dict[str, str]:
        return {"target": self.target, "reason": self.reason, "by": self.by,
                "until": self.until}


@dataclass(frozen=True)
class BackgroundLoad:
    """The team's own locustfile, run beside drills' load as background traffic.

    Not measured for the RPO (drills cannot know what its writes were); its request and
    failure counts go on the timeline, and its output with the scenario's logs.
    """

    locustfile: Path
    users: int = 4
    host: str | None = None  # its --host; ``${VAR:-default}`` allowed

    def to_dict(self) -> dict[str, Any]:
        return {"locustfile": str(self.locustfile), "users": self.users, "host": self.host}


@dataclass(frozen=True)
class WorkloadSpec:
    """Load applied during a drill."""

    users: int = 8
    rate: float = 0.0  # total writes/s across users; 0 = as fast as they can
    warmup_s: float = 3.0  # load before the fault
    hold_s: float = 2.0  # load after the first good probe
    background: BackgroundLoad | None = None
    #: Locust workers started on this host (its distributed mode); 0: one process
    workers: int = 0
    #: Locust workers expected to join from other hosts (``drill worker``)
    remote_workers: int = 0
    #: where the Locust master listens, "host:port"; None: a free port on 127.0.0.1
    master: str | None = None

    @property
    def distributed(self) -> bool:
        return bool(self.workers or self.remote_workers)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"users": self.users, "rate": self.rate,
                               "warmup_s": self.warmup_s, "hold_s": self.hold_s}
        if self.distributed:  # only then, so that the settings of other drills keep their digest
            out.update(workers=self.workers, remote_workers=self.remote_workers,
                       master=self.master)
        if self.background is not None:
            out["background"] = self.background.to_dict()
        return out


@dataclass(frozen=True)
class ProbeSpec:
    """The steady-state probe: a write acknowledged and read back, every interval."""

    interval_s: float = 0.05
    timeout_s: float = 1.0  # an answer slower than this counts as down

    def to_dict(self) -> dict[str, float]:
        return {"interval_s": self.interval_s, "timeout_s": self.timeout_s}


@dataclass(frozen=True)
class BackupSchedule:
    """The plan's real backup schedule and data size, for projections (docs/measurement.md rule 7).

    The drill itself backs up seconds before the fault; these say what that implies.
    """

    every_s: float | None = None  # the real interval: 86400 for a daily dump
    production_bytes: int | None = None  # the production data size, to scale restore time

    def to_dict(self) -> dict[str, float | int | None]:
        return {"every_s": self.every_s, "production_bytes": self.production_bytes}


@dataclass(frozen=True)
class RegressionLimits:
    """How far a figure may rise above its own recent past before the drill fails.

    The baseline is the median of the scenario's last ``runs`` passing runs of the same
    plan on the same runtime (drills.trends); the limit is that median raised by the
    fraction, and at least by ``margin_s``, so that noise in figures of a second or less
    does not fail a drill.
    """

    rto: float | None = None  # 0.3: fail above 130 % of the median RTO
    rpo: float | None = None
    runs: int = 5
    margin_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"rto": self.rto, "rpo": self.rpo, "runs": self.runs, "margin_s": self.margin_s}


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario of the plan, with defaults applied."""

    name: str
    targets: Targets
    workload: WorkloadSpec
    probe: ProbeSpec
    recovery_timeout_s: float
    params: Mapping[str, Any] = field(default_factory=dict)
    #: data loaded before the drill (bytes), so that a restore has something to restore
    dataset_bytes: int = 0
    backup: BackupSchedule | None = None
    #: where its procedure comes from (plan version 2; version 1 names built-ins only)
    source: Source = Source.BUILTIN
    #: the catalogue scenario it runs, for a built-in one
    builtin: str | None = None
    description: str = ""
    fault: FaultSpec | None = None
    recovery: tuple[StepSpec, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    #: how the plan says the damage is detected (steps scenarios); None: by the probe
    detect: DetectSpec | None = None
    #: the service the steady-state probe and the write ledger use (steps scenarios)
    ledger: str | None = None
    regression: RegressionLimits | None = None
    #: the audit controls this drill evidences, as the plan names them ("ISO27001:A.8.13")
    controls: tuple[str, ...] = ()
    #: gaps the team accepts on the plan's real schedule, each with who and until when
    accepts: tuple[Acceptance, ...] = ()

    @property
    def catalogue_name(self) -> str:
        """The built-in drill this scenario runs."""
        return self.builtin or self.name

    def stated_manual_s(self) -> float:
        """The sum of the durations its manual steps state (counted in the RTO)."""
        return sum(s.takes_s or 0.0 for s in self.recovery if not s.measured)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source.value,
            "builtin": self.builtin,
            "description": self.description,
            "fault": self.fault.to_dict() if self.fault else None,
            "recovery": [s.to_dict() for s in self.recovery],
            "checks": [c.to_dict() for c in self.checks],
            "ledger": self.ledger,
            **({"detect": self.detect.to_dict()} if self.detect else {}),
            "targets": self.targets.to_dict(),
            "workload": self.workload.to_dict(),
            "probe": self.probe.to_dict(),
            "recovery_timeout_s": self.recovery_timeout_s,
            "params": dict(self.params),
            "dataset_bytes": self.dataset_bytes,
            "backup": self.backup.to_dict() if self.backup else None,
            "regression": self.regression.to_dict() if self.regression else None,
            "controls": list(self.controls),
            **({"accept": [a.to_dict() for a in self.accepts]} if self.accepts else {}),
        }


@dataclass(frozen=True)
class Plan:
    """A whole plan file, resolved."""

    path: Path
    sha256: str
    name: str
    scenarios: Mapping[str, ScenarioPlan]
    description: str = ""
    version: int = 1
    stack: StackSpec | None = None
    backups: Mapping[str, BackupJob] = field(default_factory=dict)
    procedures: Mapping[str, Procedure] = field(default_factory=dict)
    #: how often the plan says it is drilled: a run later than this after the previous
    #: one in the same reports directory is overdue
    drill_every_s: float | None = None
    #: the file's bytes as read (their sha256 is ``sha256``): the copy kept with a run
    source: bytes = field(default=b"", repr=False, compare=False)

    def scenario(self, name: str) -> ScenarioPlan:
        try:
            return self.scenarios[name]
        except KeyError:
            raise PlanError(
                self.path, f"scenarios.{name}",
                f"not in this plan; it has: {', '.join(self.scenarios) or 'none'}",
            ) from None
