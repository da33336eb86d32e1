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
from drills.history import DrillClock, History, ProbeAttempt, read_probes
from drills.journal import Journal, ScenarioFiles, load_journal
from drills.measure.bins import Bins, BinsScan, bin_width
from drills.measure.checker import WriteCheck, WriteClasses
from drills.measure.findings import Finding
from drills.measure.plan_targets import check_rows, phase_rows, phase_times, stated_manual_s
from drills.measure.probe_cost import ProbeCost, probe_cost
from drills.measure.projection import Projection, project
from drills.measure.restore import (
    BackupTaken,
    Restore,
    RestoreScan,
    backups_of,
    calibrate,
    consistency_of,
    measure_restore,
    restoring_step,
)
from drills.measure.rpo import AckedBefore, Rpo, measure_rpo
from drills.measure.rto import Rto, measure_rto, probe_passed
from drills.measure.scan import Scanner, scan
from drills.measure.service_levels import LevelsScan, PhaseLevels
from drills.measure.verdict import TargetCheck, Verdict, fmt_s, overall
from drills.plan import ProbeSpec
from drills.readback import ReadBack, load_readback
from drills.timeline import Category, Event, EventKind, Step, steps_of
from drills.trends.baseline import Baseline, load_baseline, regression_rows


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
    #: what users saw before, during and after the fault (DESIGN.md rule 11)
    service_levels: tuple[PhaseLevels, ...] = ()
    #: the earlier passing runs its regression limits were judged against, and what the
    #: report says about them (drills.trends.baseline)
    baseline: Baseline | None = None
    regression_note: str = ""
    #: the audit controls the plan says this drill evidences
    controls: tuple[str, ...] = ()
    #: the op history in time bins, for the report's chart (not in summary.json)
    bins: Bins | None = None
    #: what the steady-state probe cost the load
    probe_cost: ProbeCost | None = None

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
class _Evidence:
    """What could be read back from the files; None where it could not."""

    journal: Journal
    concluded: tuple[Event, ...]  # the events up to the conclusion; the rest is teardown
    steps: list[Step]
    history: History | None
    probes: list[ProbeAttempt] | None
    readback: ReadBack | None
    problems: list[str]

    @property
    def readable(self) -> bool:
        """Whether the read-back gave rows to check the writes against."""
        return self.readback is not None and self.readback.rows is not None


@dataclass
class _Scanned:
    """What the pass over the op history measured."""

    writes: WriteCheck | None = None
    acked_before_fault: int = 0
    levels: tuple[PhaseLevels, ...] = ()
    bins: Bins | None = None
    restore: RestoreScan | None = None


def evaluate(files: ScenarioFiles) -> DrillResult:
    """Rebuild a drill's result from its saved records."""
    ev = _gather(files)
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
        rpo = measure_rpo(writes, scanned.acked_before_fault, fault.start.mono)
    restore = None
    if fault is not None and writes is not None:
        restore = measure_restore(ev.steps, backups, fault, writes, scanned.restore)

    judge = _Judge(ev, fault, writes, rpo, rto, probe, errors, levels, scanned.restore)
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
        probe_cost=probe_cost(ev.probes or (), journal.timeline.events, levels),
    )


def _scan(ev: _Evidence, fault: Step | None, rto: Rto | None,
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
    writes = classes.finish(ev.readback, seen) if classes and ev.readback else None
    return _Scanned(writes, acked.count if acked else 0, levels.finish() if levels else (),
                    bins.finish(), restore)


def _gather(files: ScenarioFiles) -> _Evidence:
    journal = load_journal(files)
    problems: list[str] = []
    history: History | None = None
    probes: list[ProbeAttempt] | None = None
    readback: ReadBack | None = None
    paths = files.histories()
    if not paths:
        problems.append("no op history was recorded")
    else:
        try:
            history = History.open(paths, DrillClock.from_dict(journal.environment.get("clock")))
        except HistoryError as exc:
            problems.append(f"op history unreadable: {exc}")
    try:
        probes = read_probes(files.probes) if files.probes.exists() else None
        if probes is None:
            problems.append("no probe record was saved")
    except HistoryError as exc:
        problems.append(f"probe record unreadable: {exc}")
    if files.readback.exists():
        try:
            readback = load_readback(files.readback)
        except HistoryError as exc:
            problems.append(f"read-back unreadable: {exc}")
        if readback is not None and readback.rows is None:
            problems.append(f"read-back failed: {readback.error}")
    else:
        problems.append("the store was never read back after recovery")
    events = journal.timeline.events
    done = next((i for i, e in enumerate(events) if e.kind == EventKind.CHECK_DONE), None)
    concluded = events if done is None else events[: done + 1]
    return _Evidence(journal, concluded, steps_of(concluded), history, probes, readback, problems)


class _Judge:
    """Turns measurements into verdict rows and findings."""

    def __init__(
        self, ev: _Evidence, fault: Step | None, writes: WriteCheck | None, rpo: Rpo | None,
        rto: Rto | None, probe: ProbeSpec, errors: list[str],
        levels: tuple[PhaseLevels, ...] = (), restore_scan: RestoreScan | None = None,
    ) -> None:
        self.ev, self.fault, self.writes, self.rpo, self.rto = ev, fault, writes, rpo, rto
        self.restore_scan = restore_scan
        self.levels = {p.phase: p for p in levels}
        self.probe = probe
        self.errors = errors
        self.findings: list[Finding] = []
        self.backups: list[BackupTaken] = []
        self.restore: Restore | None = None

    def cnv(self, key: str, title: str, target: str, reason: str,
            target_value: float | None = None) -> TargetCheck:
        self.findings.append(Finding("COULD_NOT_VERIFY", f"{title}: {reason}"))
        return TargetCheck(key, title, target, "n/a", "", Verdict.COULD_NOT_VERIFY, reason,
                           target_value=target_value)

    def checks(self, targets: dict[str, Any]) -> list[TargetCheck]:
        rows: list[TargetCheck] = []
        if targets.get("rto_s") is not None:
            rows.append(self.rto_check(float(targets["rto_s"])))
        if targets.get("rpo_s") is not None:
            rows.append(self.rpo_check(float(targets["rpo_s"])))
        if targets.get("max_lost_writes") is not None:
            rows.append(self.lost_check(int(targets["max_lost_writes"])))
        if targets.get("availability") is not None:
            rows.append(self.availability_check(float(targets["availability"])))
        if targets.get("p99_latency_s") is not None:
            rows.append(self.latency_check(float(targets["p99_latency_s"])))
        if targets.get("phases") and self.fault is not None:
            times = phase_times(self.ev.steps, self.rto, self.fault.start.mono)
            rows.extend(phase_rows(targets["phases"], times, self.findings))
        rows.append(self.integrity_check())
        rows.extend(check_rows(self.ev.steps, self.findings))
        rows.extend(self.calibration_checks())
        if self.errors:
            reason = "; ".join(self.errors)
            rows.append(self.cnv("procedure", "drill procedure", "completes", reason))
        if self.rpo and self.rpo.lost_after_fault:
            self.findings.append(Finding(
                "LOST_AFTER_FAULT_BEGAN",
                f"{self.rpo.lost_after_fault} of the {self.rpo.lost_writes} lost writes were "
                "acknowledged after the fault began; they add nothing to the RPO window.",
            ))
        if self.writes and self.writes.unknown and self.rpo:
            self.findings.append(Finding(
                "WRITES_IN_DOUBT",
                f"{self.writes.unknown} writes got no answer; "
                f"{len(self.writes.recovered)} of them are present.",
            ))
        return rows

    def data_problem(self) -> str | None:
        """Why loss figures cannot be trusted, if they cannot."""
        if self.writes is None or self.rpo is None:
            return "; ".join(self.ev.problems) or "no write check was possible"
        if self.rpo.acked_before_fault == 0:
            return "no write was acknowledged before the fault, so none could be lost"
        if self.writes.unexpected:
            return (f"{len(self.writes.unexpected)} unexpected writes in the store: "
                    "the loss count cannot be trusted")
        return None

    def rto_check(self, target: float) -> TargetCheck:
        title, shown = "RTO", f"<= {fmt_s(target)}"
        rto = self.rto
        if rto is None:
            return self.cnv("rto_s", title, shown,
                            "; ".join(self.ev.problems) or "no probe record", target)
        before = [p for p in (self.ev.probes or [])
                  if self.fault and p.complete_mono < self.fault.start.mono]
        if not any(probe_passed(p, self.probe) for p in before):
            return self.cnv("rto_s", title, shown,
                            "the steady-state probe never passed before the fault", target)
        if rto.seconds is None:
            if rto.observed_s >= target:
                msg = f"no probe passed in the {fmt_s(rto.observed_s)} watched after the fault"
                self.findings.append(Finding("NEVER_RECOVERED", msg))
                self.findings.append(Finding("RTO_EXCEEDED", msg))
                return TargetCheck("rto_s", title, shown, f"> {fmt_s(rto.observed_s)}", "",
                                   Verdict.FAIL, msg, target, None)
            return self.cnv("rto_s", title, shown,
                            f"the probe was watched only {fmt_s(rto.observed_s)}", target)
        resolution = f"+0/-{fmt_s(rto.resolution_s)}" if rto.outage_seen else \
            f"+{fmt_s(rto.resolution_s)}/-0 (no outage seen)"
        # a person's steps take no time in the drill: their stated durations are added
        manual = stated_manual_s(self.ev.steps)
        total = rto.seconds + manual
        measured = fmt_s(rto.seconds) if not manual else \
            f"{fmt_s(total)} = {fmt_s(rto.seconds)} measured + {fmt_s(manual)} stated for " \
            "manual steps (not measured)"
        if total <= target:
            return TargetCheck("rto_s", title, shown, measured, resolution,
                               Verdict.PASS, "", target, total)
        msg = f"service answered correctly again {fmt_s(rto.seconds)} after the fault" + \
            (f", {fmt_s(total)} with the manual steps the plan states" if manual else "")
        self.findings.append(Finding("RTO_EXCEEDED", msg))
        return TargetCheck("rto_s", title, shown, measured, resolution,
                           Verdict.FAIL, msg, target, total)

    def rpo_check(self, target: float) -> TargetCheck:
        title, shown = "RPO window", f"<= {fmt_s(target)}"
        problem = self.data_problem()
        if problem or self.rpo is None:
            return self.cnv("rpo_s", title, shown, problem or "no RPO", target)
        rpo = self.rpo
        measured = f"{fmt_s(rpo.window_s)} ({rpo.lost_writes} lost, {rpo.unknown_writes} unknown)"
        if rpo.lost_after_fault:
            measured += f"; {rpo.lost_after_fault} lost were acknowledged after the fault began"
        if rpo.window_s <= target:
            return TargetCheck("rpo_s", title, shown, measured, "exact (per acknowledged write)",
                               Verdict.PASS, "", target, rpo.window_s)
        msg = f"the oldest lost write was acknowledged {fmt_s(rpo.window_s)} before the fault"
        self.findings.append(Finding("RPO_EXCEEDED", msg))
        return TargetCheck("rpo_s", title, shown, measured, "exact (per acknowledged write)",
                           Verdict.FAIL, msg, target, rpo.window_s)

    def lost_check(self, target: int) -> TargetCheck:
        title, shown = "lost acknowledged writes", f"<= {target}"
        problem = self.data_problem()
        if problem or self.writes is None:
            return self.cnv("max_lost_writes", title, shown, problem or "no write check", target)
        lost = len(self.writes.lost)
        measured = f"{lost} of {self.writes.acked} acknowledged"
        if lost <= target:
            return TargetCheck("max_lost_writes", title, shown, measured, "exact", Verdict.PASS,
                               "", target, lost)
        msg = f"{lost} acknowledged writes are gone (first ids: {list(self.writes.lost[:5])})"
        self.findings.append(Finding("ACKED_WRITES_LOST", msg))
        return TargetCheck("max_lost_writes", title, shown, measured, "exact", Verdict.FAIL, msg,
                           target, lost)

    def _during_fault(self, key: str, title: str, shown: str,
                      target: float) -> PhaseLevels | TargetCheck:
        """The fault phase's levels, or the could-not-verify row saying why there are none."""
        during = self.levels.get("fault")
        if during is None:
            return self.cnv(key, title, shown, "; ".join(self.ev.problems)
                            or "no fault took effect, or no write history", target)
        if during.writes == 0:
            return self.cnv(key, title, shown, f"no write was invoked in the "
                            f"{fmt_s(during.duration_s)} the fault was in place", target)
        return during

    def availability_check(self, target: float) -> TargetCheck:
        key, title, shown = "availability", "availability during the fault", f">= {target:.2%}"
        during = self._during_fault(key, title, shown, target)
        if isinstance(during, TargetCheck):
            return during
        share = during.availability or 0.0
        measured = (f"{share:.2%} ({during.ok} of {during.writes} writes acknowledged; "
                    f"{during.fail} failed, {during.unknown} unknown, over "
                    f"{fmt_s(during.duration_s)})")
        resolution = f"1 write in {during.writes}"
        if share >= target:
            return TargetCheck(key, title, shown, measured, resolution, Verdict.PASS, "",
                               target, share)
        msg = f"only {share:.2%} of the writes made during the fault were acknowledged"
        self.findings.append(Finding("AVAILABILITY_MISSED", msg))
        return TargetCheck(key, title, shown, measured, resolution, Verdict.FAIL, msg, target,
                           share)

    def latency_check(self, target: float) -> TargetCheck:
        key, title = "p99_latency", "p99 write latency during the fault"
        shown = f"<= {target * 1000:.0f} ms"
        during = self._during_fault(key, title, shown, target)
        if isinstance(during, TargetCheck):
            return during
        if during.p99_ms is None:
            return self.cnv(key, title, shown, "no write completed during the fault", target)
        p99 = during.p99_ms / 1000
        measured = (f"{during.p99_ms:.0f} ms (p50 {during.p50_ms or 0:.0f} ms, p95 "
                    f"{during.p95_ms or 0:.0f} ms; {during.writes} writes)")
        if p99 <= target:
            return TargetCheck(key, title, shown, measured, "per write", Verdict.PASS, "",
                               target, p99)
        msg = f"p99 write latency was {during.p99_ms:.0f} ms while the fault was in place"
        self.findings.append(Finding("LATENCY_EXCEEDED", msg))
        return TargetCheck(key, title, shown, measured, "per write", Verdict.FAIL, msg, target,
                           p99)

    def integrity_check(self) -> TargetCheck:
        title, shown = "data integrity", "0 corrupted, 0 unexpected"
        if self.writes is None:
            return self.cnv("integrity", title, shown,
                            "; ".join(self.ev.problems) or "no write check")
        w = self.writes
        measured = f"{len(w.corrupted)} corrupted, {len(w.unexpected)} unexpected"
        if not w.corrupted and not w.unexpected:
            return TargetCheck("integrity", title, shown, measured, "exact", Verdict.PASS)
        if w.corrupted:
            self.findings.append(Finding(
                "WRITES_CORRUPTED",
                f"{len(w.corrupted)} writes changed value: {list(w.corrupted[:5])}",
            ))
        if w.unexpected:
            self.findings.append(Finding(
                "UNEXPECTED_WRITES", f"{len(w.unexpected)} unexpected: {list(w.unexpected[:5])}"
            ))
        return TargetCheck("integrity", title, shown, measured, "exact", Verdict.FAIL, measured)

    def calibration_checks(self) -> list[TargetCheck]:
        rows = []
        for event in self.ev.concluded:
            if event.kind != EventKind.CALIBRATION:
                continue
            if event.data.get("check") == "rto":
                rows.append(self.rto_calibration(float(event.data["tolerance_s"])))
            elif event.data.get("check") == "loss":
                rows.append(self.loss_calibration([int(i) for i in event.data["expected_ids"]]))
            elif event.data.get("check") == "backup":
                rows.append(self.backup_calibration())
        return rows

    # -- backups and restores ------------------------------------------------------------

    def restore_checks(self, backups: list[BackupTaken],
                       restore: Restore | None) -> list[TargetCheck]:
        """Each backup verified; the restored data complete; a PITR on its target."""
        self.backups, self.restore = backups, restore
        rows = [self.backup_verified(b) for b in backups]
        restoring = [s for s in self.ev.steps if s.category == Category.RECOVERY
                     and "restored_from" in s.data]
        if not restoring:
            return rows
        rows.append(self.completeness(restore))
        if any("pitr_target_xid" in s.data for s in restoring):
            rows.append(self.pitr_accuracy(restore))
        return rows

    def backup_verified(self, backup: BackupTaken) -> TargetCheck:
        key, title = f"backup.{backup.name}", f"backup {backup.name} usable"
        shown = "verified before the fault"
        if backup.verified is None:
            return self.cnv(key, title, shown, "the drill stopped before verifying it")
        if backup.verified:
            return TargetCheck(key, title, shown, f"yes: {backup.detail}", str(backup.tool),
                               Verdict.PASS)
        msg = f"{backup.tool}: {backup.detail}"
        self.findings.append(Finding("BACKUP_UNUSABLE", f"backup {backup.name}: {msg}"))
        return TargetCheck(key, title, shown, "no", str(backup.tool), Verdict.FAIL, msg)

    def completeness(self, restore: Restore | None) -> TargetCheck:
        key, title = "restore.complete", "restored data complete"
        shown = "every write acknowledged before the consistency point present"
        if restore is None or self.writes is None:
            return self.cnv(key, title, shown, "; ".join(self.ev.problems)
                            or "the restore or the write check could not be measured")
        missing = len(restore.missing_before_point)
        measured = (f"{missing} missing from before the point; {restore.lost_after_point} lost "
                    f"after it (by design of {restore.method})")
        if missing == 0:
            return TargetCheck(key, title, shown, measured, restore.consistency_what,
                               Verdict.PASS)
        msg = (f"{missing} writes acknowledged before the consistency point of "
               f"{restore.backup} are missing (first ids: "
               f"{list(restore.missing_before_point[:5])})")
        self.findings.append(Finding("BACKUP_INCOMPLETE", msg))
        return TargetCheck(key, title, shown, measured, restore.consistency_what,
                           Verdict.FAIL, msg)

    def pitr_accuracy(self, restore: Restore | None) -> TargetCheck:
        key, title = "restore.pitr", "PITR accuracy"
        shown = "nothing invoked between the target and the restore present"
        if restore is None or restore.pitr is None:
            return self.cnv(key, title, shown, "; ".join(self.ev.problems)
                            or "the point-in-time recovery could not be measured")
        pitr = restore.pitr
        distance = "no write recovered" if pitr.distance_s is None else \
            f"newest recovered write acknowledged {pitr.distance_s * 1000:.1f} ms before " \
            "the target"
        measured = f"{len(pitr.present_after_target)} present after the target; {distance}"
        if not pitr.present_after_target:
            return TargetCheck(key, title, shown, measured, "per write", Verdict.PASS)
        msg = (f"{len(pitr.present_after_target)} writes invoked after the target are present: "
               "the recovery went past the accident")
        self.findings.append(Finding("PITR_OVERSHOT", msg))
        return TargetCheck(key, title, shown, measured, "per write", Verdict.FAIL, msg)

    def backup_calibration(self) -> TargetCheck:
        key, title = "calibration.backup", "calibration: backup consistency point"
        shown = "RPO = fault - consistency point; lost = exactly the writes made after it"
        restore = self.restore
        if (restore is None or self.fault is None or self.rpo is None
                or self.restore_scan is None):
            return self.cnv(key, title, shown, "; ".join(self.ev.problems)
                            or "no restore from a backup was measured")
        cal = calibrate(restore, self.fault, self.restore_scan)
        error = restore.window_s - cal.expected_window_s
        measured = (f"RPO {fmt_s(restore.window_s)} vs {fmt_s(cal.expected_window_s)} "
                    f"(error {error * 1000:+.1f} ms); {cal.missing_before} missing before, "
                    f"{len(cal.kept_after)} kept after; {cal.straddling} in flight across it")
        tolerance = f"+/- {cal.tolerance_s * 1000:.1f} ms"
        problems = []
        if abs(error) > cal.tolerance_s:
            problems.append(f"the RPO is off the consistency point by {error * 1000:+.1f} ms")
        if cal.missing_before:
            problems.append(f"{cal.missing_before} writes from before the point are missing")
        if cal.kept_after:
            problems.append(f"{len(cal.kept_after)} writes made after the point survived "
                            f"(first ids: {list(cal.kept_after[:5])})")
        if not problems:
            return TargetCheck(key, title, shown, measured, tolerance, Verdict.PASS, "",
                               cal.expected_window_s, restore.window_s)
        reason = "; ".join(problems)
        self.findings.append(Finding("CALIBRATION_FAILED", reason))
        return TargetCheck(key, title, shown, measured, tolerance, Verdict.FAIL, reason,
                           cal.expected_window_s, restore.window_s)

    def injected_outage(self) -> float | None:
        """From the instant the fault took effect to the instant its revert did."""
        reverts = [s for s in self.ev.steps if s.category == Category.REVERT and s.ok]
        if self.fault is None or not reverts:
            return None
        return reverts[0].start.mono - self.fault.start.mono

    def rto_calibration(self, tolerance: float) -> TargetCheck:
        title = "calibration: RTO clock"
        expected = self.injected_outage()
        if expected is None:
            return self.cnv("calibration.rto", title, f"the injected outage +/- "
                            f"{fmt_s(tolerance)}", "the timeline holds no fault and revert "
                            "that took effect, so the injected outage is unknown")
        shown = f"{fmt_s(expected)} (fault to revert, as recorded) +/- {fmt_s(tolerance)}"
        if self.rto is None or self.rto.seconds is None:
            return self.cnv("calibration.rto", title, shown, "no RTO was measured", expected)
        error = self.rto.seconds - expected
        measured = f"{fmt_s(self.rto.seconds)} (error {error * 1000:+.0f} ms)"
        verdict = Verdict.PASS if abs(error) <= tolerance else Verdict.FAIL
        reason = ""
        if verdict == Verdict.FAIL:
            reason = f"measured RTO is off the injected outage by {error * 1000:+.0f} ms"
            self.findings.append(Finding("CALIBRATION_FAILED", reason))
        return TargetCheck("calibration.rto", title, shown, measured,
                           f"+0/-{fmt_s(self.rto.resolution_s)}", verdict, reason, expected,
                           self.rto.seconds)

    def loss_calibration(self, expected_ids: list[int]) -> TargetCheck:
        title = "calibration: loss detection"
        shown = f"exactly the {len(expected_ids)} deleted ids"
        if self.writes is None:
            return self.cnv("calibration.loss", title, shown,
                            "; ".join(self.ev.problems) or "no write check", len(expected_ids))
        found, wanted = set(self.writes.lost.to_list()), set(expected_ids)
        measured = f"{len(found & wanted)} found, {len(found - wanted)} extra, " \
                   f"{len(wanted - found)} missed"
        if found == wanted:
            return TargetCheck("calibration.loss", title, shown, measured, "exact", Verdict.PASS,
                               "", len(wanted), len(found))
        reason = "the checker's lost ids differ from the ids deleted behind the workload's back"
        self.findings.append(Finding("CALIBRATION_FAILED", reason))
        return TargetCheck("calibration.loss", title, shown, measured, "exact", Verdict.FAIL,
                           reason, len(wanted), len(found))


def explain(result: DrillResult) -> str:
    """The verdict table as plain text, for assertion messages and terminals."""
    lines = [f"{result.scenario} ({result.runtime}): {result.verdict}"]
    for c in result.checks:
        lines.append(f"  {c.verdict:<17} {c.title}: {c.measured} (target {c.target})"
                     + (f" - {c.reason}" if c.reason else ""))
    lines.extend(f"  error: {e}" for e in result.errors)
    return "\n".join(lines)
