"""Evaluate a drill from its saved records: the one pure function behind every figure.

``evaluate(ScenarioFiles(dir))`` reads journal.json, the op histories, probes.jsonl and
the read-back and returns a DrillResult: RTO with phases, RPO, the write check, one
verdict per target, and findings. The op histories are read in one streaming pass
(drills.measure.scan), whatever their length. The drill calls it at the end; ``drill report``
calls it again on saved runs, so the report is always reproducible from the journal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drills.errors import HistoryError
from drills.measure.bins import BIN_S, Bins, BinsScan, bin_width
from drills.measure.checker import WriteCheck, WriteClasses
from drills.measure.findings import Finding
from drills.measure.judge import Judge
from drills.measure.loss import LossClasses
from drills.measure.probe_cost import ProbeCost, probe_cost
from drills.measure.projection import Projection, project
from drills.measure.regression import regression_rows
from drills.measure.replication import Replication, measure_replication
from drills.measure.restore import (
    BackupTaken,
    Restore,
    RestoreScan,
    backups_of,
    consistency_of,
    measure_restore,
    restoring_step,
)
from drills.measure.rpo import AckedBefore, Rpo, measure_rpo
from drills.measure.rto import Rto, measure_rto
from drills.measure.scan import Scanner, scan
from drills.measure.service_levels import LevelsScan, PhaseLevels
from drills.measure.sources import Sources, gather
from drills.measure.verdict import TargetCheck, Verdict, overall
from drills.plan import ProbeSpec
from drills.record.journal import ScenarioFiles
from drills.record.timeline import Category, EventKind, Step
from drills.trends.baseline import Baseline, load_baseline


@dataclass(frozen=True)
class DrillResult:
    """Everything measured in one scenario run."""

    scenario: str
    probed_service: str | None  # where the probe ran (RTO)
    store_service: str | None  # whose writes were read back (RPO)
    runtime: str
    run_id: str
    verdict: Verdict
    checks: tuple[TargetCheck, ...]
    findings: tuple[Finding, ...]
    rto: Rto | None
    rpo: Rpo | None
    writes: WriteCheck | None
    probe: ProbeSpec
    t_fault_mono: float | None
    t_fault_wall: float | None
    errors: tuple[str, ...] = ()
    environment: dict[str, Any] = field(default_factory=dict)
    backups: tuple[BackupTaken, ...] = ()
    restore: Restore | None = None
    projection: Projection | None = None
    #: what users saw before, during and after the fault (docs/measurement.md rule 11)
    service_levels: tuple[PhaseLevels, ...] = ()
    #: the earlier passing runs its regression limits were judged against, and what the
    #: report says about them (drills.trends.baseline)
    baseline: Baseline | None = None
    regression_note: str = ""
    #: the audit controls the plan says this drill evidences
    controls: tuple[str, ...] = ()
    #: the op history in time bins, for the report's chart (not in summary.json); for a
    #: long drill, also 100 ms bins around the fault and recovery, for the chart's zoom
    bins: Bins | None = None
    zoom_bins: Bins | None = None
    #: what the steady-state probe cost the load
    probe_cost: ProbeCost | None = None
    #: the lost acknowledged writes by class (drills.measure.loss)
    loss: LossClasses | None = None
    #: roles, lag at the fault and split brain of a failover drill (drills.measure.replication)
    replication: Replication | None = None

    def explain(self) -> str:
        return explain(self)

    def to_dict(self) -> dict[str, Any]:
        """The summary.json entry for this scenario."""
        return {
            "name": self.scenario,
            "probed_service": self.probed_service,
            "store_service": self.store_service,
            "runtime": self.runtime,
            "run_id": self.run_id,
            "verdict": str(self.verdict),
            "targets": [c.to_dict() for c in self.checks],
            "rto_s": self.rto.seconds if self.rto else None,
            "rto_resolution_s": self.rto.resolution_s if self.rto else None,
            "rpo_s": self.rpo.window_s if self.rpo else None,
            "acked_writes": self.writes.acked if self.writes else None,
            "lost_writes": len(self.writes.lost) if self.writes else None,
            "unknown_writes": self.writes.unknown if self.writes else None,
            "probe_interval_s": self.probe.interval_s,
            "probe_interval_achieved_s": self.rto.achieved_interval_s if self.rto else None,
            "probe_cost": self.probe_cost.to_dict() if self.probe_cost else None,
            "fault_at": self.t_fault_wall,
            "rto": self.rto.to_dict() if self.rto else None,
            "rpo": self.rpo.to_dict() if self.rpo else None,
            "loss": self.loss.to_dict() if self.loss else None,
            "replication": self.replication.to_dict() if self.replication else None,
            "writes": self.writes.to_dict() if self.writes else None,
            "backups": [b.to_dict() for b in self.backups],
            "restore": self.restore.to_dict() if self.restore else None,
            "projection": self.projection.to_dict() if self.projection else None,
            "service_levels": [p.to_dict() for p in self.service_levels],
            "regression": {"note": self.regression_note,
                           "baseline": self.baseline.to_dict() if self.baseline else None},
            "controls": list(self.controls),
            "findings": [f.to_dict() for f in self.findings],
            "errors": list(self.errors),
            "environment": self.environment,
        }


@dataclass
class _Scanned:
    """What the pass over the op history measured."""

    writes: WriteCheck | None = None
    acked_before_fault: int = 0
    first_ack_mono: float | None = None
    levels: tuple[PhaseLevels, ...] = ()
    bins: Bins | None = None
    zoom_bins: Bins | None = None
    restore: RestoreScan | None = None


def evaluate(files: ScenarioFiles) -> DrillResult:
    """Rebuild a drill's result from its saved records."""
    ev = gather(files)
    journal = ev.journal
    scenario = journal.scenario
    probe = ProbeSpec(**scenario["probe"])
    targets = scenario["targets"]
    fault_steps = [s for s in ev.steps if s.category == Category.FAULT]
    fault = next((s for s in fault_steps if s.ok), None)  # one that took effect
    if fault is None and fault_steps:
        why = fault_steps[0].data.get("error", "it did not finish")
        ev.problems.append(f"the fault '{fault_steps[0].name}' was not injected: {why}")
    elif fault is None:
        ev.problems.append("no fault was injected (the procedure stopped before the fault)")
    errors = [str(e.data.get("error", e.name)) for e in ev.concluded
              if e.kind == EventKind.ERROR]

    rto: Rto | None = None
    if fault is not None and ev.probes is not None:
        fault_end = fault.end.mono if fault.end else fault.start.mono
        rto = measure_rto(fault.start.mono, fault_end, ev.probes, ev.steps, probe)
    backups = backups_of(ev.steps)
    scanned = _scan(ev, fault, rto, backups)
    writes, levels = scanned.writes, scanned.levels
    rpo: Rpo | None = None
    if fault is not None and writes is not None:
        rpo = measure_rpo(writes, scanned.acked_before_fault, fault.start.mono,
                          scanned.first_ack_mono)
    restore = None
    if fault is not None and writes is not None:
        restore = measure_restore(ev.steps, backups, fault, writes, scanned.restore)

    replication = measure_replication(ev, files.root, fault, writes)
    judge = Judge(ev, fault, writes, rpo, rto, probe, errors, levels, scanned.restore,
                  replication)
    restore_rows = judge.restore_checks(backups, restore)
    checks = judge.checks(targets)
    after = next((i + 1 for i, c in enumerate(checks) if c.key == "integrity"), len(checks))
    checks[after:after] = restore_rows
    baseline = load_baseline(files.root)
    loss_problem = judge.data_problem()
    regression, regression_note = regression_rows(
        scenario.get("regression"), baseline,
        {"rto_s": (rto.seconds if rto else None,
                   "; ".join(ev.problems) or "the service never answered again"),
         "rpo_s": (rpo.window_s if rpo and loss_problem is None else None,
                   loss_problem or "no RPO")},
        judge.findings)
    checks.extend(regression)
    return DrillResult(
        scenario=str(scenario["name"]),
        probed_service=journal.probed_service,
        store_service=journal.store_service,
        runtime=journal.runtime,
        run_id=journal.run_id,
        verdict=overall(checks),
        checks=tuple(checks),
        findings=tuple(judge.findings),
        rto=rto,
        rpo=rpo,
        writes=writes,
        probe=probe,
        t_fault_mono=fault.start.mono if fault else None,
        t_fault_wall=fault.start.wall if fault else None,
        errors=tuple(errors + ev.problems),
        environment=journal.environment,
        backups=tuple(backups),
        restore=restore,
        projection=project(scenario, backups, restore, rpo),
        service_levels=levels,
        baseline=baseline,
        regression_note=regression_note,
        controls=tuple(str(c) for c in scenario.get("controls") or ()),
        bins=scanned.bins,
        zoom_bins=scanned.zoom_bins,
        probe_cost=probe_cost(ev.probes or (), journal.timeline.events, levels),
        loss=judge.loss,
        replication=replication,
    )


ZOOM_PAD_S = 5.0  # the chart's zoom shows this much before the fault and after recovery


def _scan(ev: Sources, fault: Step | None, rto: Rto | None,
          backups: list[BackupTaken]) -> _Scanned:
    """One pass over the op history for every figure that needs it."""
    if ev.history is None:
        return _Scanned()
    events = ev.journal.timeline.events
    load = next((e.at.mono for e in events if e.kind == EventKind.LOAD_START), None)
    t0 = fault.start.mono if fault else load if load is not None else \
        (events[0].at.mono if events else 0.0)
    span = events[-1].at.mono - events[0].at.mono if events else 0.0
    bins = BinsScan(t0, bin_width(span))
    scanners: list[Scanner] = [bins]
    zoom = None
    if fault is not None and bins.width > BIN_S:  # a long drill: a finer look at the outage
        end = rto.first_good_mono if rto and rto.first_good_mono else \
            fault.start.mono + (rto.observed_s if rto else 0.0)
        window = (fault.start.mono - ZOOM_PAD_S, max(end, fault.start.mono) + ZOOM_PAD_S)
        zoom = BinsScan(t0, bin_width(window[1] - window[0]), window)
        scanners.append(zoom)
    classes = WriteClasses() if ev.readable else None
    acked = AckedBefore(fault.start.mono) if fault else None
    levels = LevelsScan(ev.steps, fault.start.mono, rto.first_good_mono if rto else None) \
        if fault else None
    restore = None
    step = restoring_step(ev.steps)
    if fault is not None and step is not None and ev.readable:
        backup = next((b for b in backups if b.name == step.data["restored_from"]), None)
        if backup is not None:
            earliest, latest, _ = consistency_of(step, backup, fault)
            restore = RestoreScan(fault, step, earliest, latest)
    scanners += [s for s in (classes, acked, levels, restore) if s is not None]
    try:
        seen = scan(ev.history.chunks(), ev.readback if ev.readable else None, scanners)
    except HistoryError as exc:
        ev.problems.append(f"op history unreadable: {exc}")
        ev.history = None
        return _Scanned()
    if not bins.operations:
        levels = None
    writes = classes.finish(ev.readback, seen) \
        if classes is not None and ev.readback is not None else None
    return _Scanned(writes, acked.count if acked else 0, acked.first_ack if acked else None,
                    levels.finish() if levels else (),
                    bins.finish(), zoom.finish() if zoom else None, restore)


def explain(result: DrillResult) -> str:
    """The verdict table as plain text, for assertion messages and terminals."""
    lines = [f"{result.scenario} ({result.runtime}): {result.verdict}"]
    for c in result.checks:
        lines.append(f"  {c.verdict:<17} {c.title}: {c.measured} (target {c.target})"
                     + (f" - {c.reason}" if c.reason else ""))
    lines.extend(f"  error: {e}" for e in result.errors)
    return "\n".join(lines)
