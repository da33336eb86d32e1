"""The verdict rows of a drill: each target judged against what was measured, with findings.

A target is ``pass``, ``fail`` or ``could not verify`` (never a pass): ``Judge`` turns the
measurements of drills.measure.evaluate into those rows, and records a finding for each
way the drill failed.
"""

from __future__ import annotations

from typing import Any

from drills.measure.checker import WriteCheck
from drills.measure.findings import Finding
from drills.measure.loss import LossClasses, LossJudge, classify
from drills.measure.plan_gaps import gap_rows
from drills.measure.plan_targets import (
    DETECT_STEP,
    check_rows,
    phase_rows,
    phase_times,
    stated_manual_s,
)
from drills.measure.rehearsal import rehearsal_rows
from drills.measure.replication import Replication
from drills.measure.restore import BackupTaken, Restore, RestoreScan, calibrate
from drills.measure.rpo import Rpo
from drills.measure.rto import Rto, probe_passed
from drills.measure.service_levels import PhaseLevels
from drills.measure.sources import Sources
from drills.measure.step_failures import failed_steps, unexplained
from drills.measure.tables import table_rows
from drills.measure.verdict import TargetCheck, Verdict, fmt_s
from drills.plan import ProbeSpec
from drills.record.timeline import Category, EventKind, Step


class Judge:
    """Turns measurements into verdict rows and findings."""

    def __init__(
        self, ev: Sources, fault: Step | None, writes: WriteCheck | None, rpo: Rpo | None,
        rto: Rto | None, probe: ProbeSpec, errors: list[str],
        levels: tuple[PhaseLevels, ...] = (), restore_scan: RestoreScan | None = None,
        replication: Replication | None = None,
    ) -> None:
        self.replication = replication
        self.ev, self.fault, self.writes, self.rpo, self.rto = ev, fault, writes, rpo, rto
        self.restore_scan = restore_scan
        self.levels = {p.phase: p for p in levels}
        self.probe = probe
        self.errors = errors
        self.findings: list[Finding] = []
        self.backups: list[BackupTaken] = []
        self.restore: Restore | None = None
        self.loss: LossClasses | None = None

    def cnv(self, key: str, title: str, target: str, reason: str,
            target_value: float | None = None) -> TargetCheck:
        self.findings.append(Finding("COULD_NOT_VERIFY", f"{title}: {reason}"))
        return TargetCheck(key, title, target, "n/a", "", Verdict.COULD_NOT_VERIFY, reason,
                           target_value=target_value)

    def checks(self, targets: dict[str, Any]) -> list[TargetCheck]:
        if any(e.kind == EventKind.CALIBRATION and e.data.get("check") == "damage"
               for e in self.ev.concluded):
            return [self.damage_calibration()]  # a negative control: drills.drill.expect_damage
        rows: list[TargetCheck] = []
        if targets.get("rto_s") is not None:
            rows.append(self.rto_check(float(targets["rto_s"])))
        loss_rows = self.loss_rows(targets)
        rows.extend(loss_rows)
        if targets.get("availability") is not None:
            rows.append(self.availability_check(float(targets["availability"])))
        if targets.get("p99_latency_s") is not None:
            rows.append(self.latency_check(float(targets["p99_latency_s"])))
        if targets.get("phases") and self.fault is not None:
            undetected = self.undetected()
            if undetected:
                rows.extend(self.cnv(f"phase.{p}", f"RTO phase: {p}", f"<= {fmt_s(limit)}",
                                     undetected, limit) for p, limit in targets["phases"].items())
            else:
                times = phase_times(self.ev.steps, self.rto, self.fault.start.mono)
                rows.extend(phase_rows(targets["phases"], times, self.findings))
        integrity = self.integrity_check()
        rows.append(integrity)
        planned = self.ev.journal.scenario.get("checks") or ()
        rows.extend(check_rows(self.ev.steps, self.findings, [*loss_rows, integrity],
                               planned, self.stopped_early()))
        rows.extend(self.calibration_checks())
        rows.extend(gap_rows(self.ev.concluded, self.findings))
        rows.extend(failed_steps(self.ev.steps, self.findings))  # setup, backup procedures
        failed = self.failed_recovery()
        if failed is not None:
            rows.append(failed)
        elif unexplained(self.errors, self.ev.steps):
            reason = "; ".join(unexplained(self.errors, self.ev.steps))
            rows.append(self.cnv("procedure", "drill procedure", "completes", reason))
        stalled = self.replication.not_streaming if self.replication else ()
        if stalled:
            self.findings.append(Finding(
                "REPLICA_NOT_STREAMING",
                f"{', '.join(stalled)} {'was' if len(stalled) == 1 else 'were'} not receiving "
                "the primary's log at the fault (their last sample before it)"))
        if self.writes and self.writes.unknown and self.rpo:
            self.findings.append(Finding(
                "WRITES_IN_DOUBT",
                f"{self.writes.unknown} writes got no answer; "
                f"{len(self.writes.recovered)} of them are present.",
            ))
        return rows

    def deliberate_ids(self) -> list[int]:
        """The ids the drill deleted itself to calibrate the checker."""
        return [int(i) for e in self.ev.concluded if e.kind == EventKind.CALIBRATION
                and e.data.get("check") == "loss" for i in e.data.get("expected_ids") or ()]

    def loss_rows(self, targets: dict[str, Any]) -> list[TargetCheck]:
        """Every lost acknowledged write judged, by class (drills.measure.loss)."""
        loss = classify(self.writes, self.rpo, self.deliberate_ids()) \
            if self.writes is not None and self.rpo is not None else None
        self.loss = loss
        after_problem = None
        if self.writes is None or self.rpo is None or self.writes.unexpected:
            after_problem = self.data_problem()
        return LossJudge(loss, self.writes, self.data_problem(), after_problem,
                         self.findings).rows(targets)

    def stopped_early(self) -> str:
        """Why the drill ended before its checks, if a step failed or an error ended it."""
        failed = [s for s in self.ev.steps if s.end is not None and not s.ok
                  and s.category in (Category.RECOVERY, Category.FAULT, Category.SETUP)]
        if failed:
            return f"'{failed[0].name}' failed: {failed[0].data.get('error', 'no reason recorded')}"
        return "; ".join(self.errors)

    def undetected(self) -> str:
        """Why the RTO cannot be judged when nothing detected the damage ("" if detected)."""
        step = next((s for s in self.ev.steps if s.name == DETECT_STEP and s.end is not None
                     and not s.ok), None)
        if step is None:
            return ""
        return ("nothing detected the damage (the steady-state probe and any monitor went on "
                "passing), so there is no recovery to time; declare how the plan detects it: "
                "detect: {monitor: CHECK} polled from the fault on, or {manual: WHAT, takes: "
                "DURATION}")

    def failed_recovery(self) -> TargetCheck | None:
        """A recovery step that failed: the recovery did not work, so the drill fails."""
        failed = [s for s in self.ev.steps if s.category == Category.RECOVERY
                  and s.end is not None and not s.ok and s.name != DETECT_STEP]
        if not failed:
            return None
        step = failed[0]
        error = str(step.data.get("error") or "the step reported failure")
        msg = f"recovery step '{step.name}' failed: {error}"
        self.findings.append(Finding("RECOVERY_FAILED", msg))
        return TargetCheck("recovery", "recovery procedure", "every step succeeds",
                           f"'{step.name}' failed", "", Verdict.FAIL, msg)

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
        undetected = self.undetected()
        if undetected:
            return self.cnv("rto_s", title, shown, undetected, target)
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
        title, shown = "data integrity", "0 corrupted, 0 unexpected, none held by another writer"
        if self.writes is None:
            return self.cnv("integrity", title, shown,
                            "; ".join(self.ev.problems) or "no write check")
        w = self.writes
        measured = f"{len(w.corrupted)} corrupted, {len(w.unexpected)} unexpected"
        if len(w.conflicting):
            measured += f", {len(w.conflicting)} held by another writer"
            self.findings.append(Finding(
                "FOREIGN_WRITER",
                f"{len(w.conflicting)} ids the drill wrote hold another value, and the drill's "
                f"own write of each was refused (ids {w.conflicting.ranges_text(5)})",
            ))
        if not w.corrupted and not w.unexpected and not len(w.conflicting):
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
            elif event.data.get("check") == "replication_lag":
                rows.append(self.lag_calibration(float(event.data["delay_s"]),
                                                 float(event.data["tolerance_s"])))
            elif event.data.get("check") == "split_brain":
                rows.append(self.split_brain_calibration())
        return rows

    # -- failover ------------------------------------------------------------------------

    def lag_calibration(self, delay_s: float, tolerance_s: float) -> TargetCheck:
        """An injected replication delay must show as the RPO window of the failover.

        Asynchronous replication delayed by ``delay_s`` on the replication link, the primary
        lost with its link: the promoted replica lacks exactly the writes acknowledged in
        the last ``delay_s`` before the fault.
        """
        key, title = "calibration.replication_lag", "calibration: replication lag"
        shown = f"RPO = the injected delay {fmt_s(delay_s)} +/- {fmt_s(tolerance_s)}"
        if self.rpo is None or self.data_problem() is not None:
            return self.cnv(key, title, shown, self.data_problem() or "no RPO was measured",
                            delay_s)
        if self.rpo.lost_before_fault == 0:
            reason = "no write was lost: the delay on the replication link had no effect"
            self.findings.append(Finding("CALIBRATION_FAILED", reason))
            return TargetCheck(key, title, shown, "0 lost", "+/- " + fmt_s(tolerance_s),
                               Verdict.FAIL, reason, delay_s, 0.0)
        error = self.rpo.window_s - delay_s
        measured = (f"RPO {fmt_s(self.rpo.window_s)} over {self.rpo.lost_before_fault} lost "
                    f"(error {error * 1000:+.0f} ms)")
        if abs(error) <= tolerance_s:
            return TargetCheck(key, title, shown, measured, "+/- " + fmt_s(tolerance_s),
                               Verdict.PASS, "", delay_s, self.rpo.window_s)
        reason = f"the RPO is off the injected delay by {error * 1000:+.0f} ms"
        self.findings.append(Finding("CALIBRATION_FAILED", reason))
        return TargetCheck(key, title, shown, measured, "+/- " + fmt_s(tolerance_s),
                           Verdict.FAIL, reason, delay_s, self.rpo.window_s)

    def damage_calibration(self) -> TargetCheck:
        """A negative control passes only when the fault did the damage it must do.

        A server that does not start again (its recovery step failed: the error and its
        log say how) or acknowledged writes that are gone, or changed; the row says which.
        A fault that did no damage has no teeth, and the control fails.
        """
        key, title = "calibration.damage", "negative control: the fault does damage"
        shown = "acknowledged writes lost or changed, or a server that does not start again"
        failed = [s for s in self.ev.steps if s.category == Category.RECOVERY
                  and s.end is not None and not s.ok and s.name != DETECT_STEP]
        if failed:
            step = failed[0]
            return TargetCheck(key, title, shown, "the server did not start again", "",
                               Verdict.PASS, f"'{step.name}' failed: "
                               f"{step.data.get('error', 'no reason recorded')}")
        if self.writes is None or self.rpo is None:
            return self.cnv(key, title, shown, self.stopped_early()
                            or "the store was never read back after recovery")
        damaged = len(self.writes.lost) + len(self.writes.corrupted)
        measured = (f"{len(self.writes.lost)} of {self.writes.acked} acknowledged writes lost, "
                    f"{len(self.writes.corrupted)} changed")
        if damaged:
            return TargetCheck(key, title, shown, measured, "exact", Verdict.PASS, "",
                               None, float(damaged))
        reason = ("the server came back with every acknowledged write: the fault did no "
                  "damage, so it cannot tell a durable setting from one that is not")
        self.findings.append(Finding("CALIBRATION_FAILED", reason))
        return TargetCheck(key, title, shown, measured, "exact", Verdict.FAIL, reason, None, 0.0)

    def split_brain_calibration(self) -> TargetCheck:
        """Every write lost after the fault is accounted for by the demoted primary's ledger.

        In a split brain the only writes lost after the fault are those the isolated old
        primary acknowledged; each must be in its own ledger, read before it rejoined.
        """
        key, title = "calibration.split_brain", "calibration: demoted primary's writes"
        shown = "every write lost after the fault held by the demoted primary"
        split = self.replication.split_brain if self.replication else None
        if split is None or self.rpo is None:
            reason = "; ".join(self.replication.problems) if self.replication else ""
            return self.cnv(key, title, shown, reason or "the demoted primary's ledger was "
                            "not read, or no promotion was recorded")
        held = split.demoted_lost + split.isolated_lost
        measured = (f"{split.demoted_lost} acknowledged by the demoted primary after the "
                    f"promotion, {split.isolated_lost} before it; {self.rpo.lost_after_fault} "
                    "lost after the fault")
        if held == self.rpo.lost_after_fault and split.demoted_lost > 0:
            return TargetCheck(key, title, shown, measured, "exact", Verdict.PASS, "",
                               self.rpo.lost_after_fault, held)
        reason = ("the demoted primary acknowledged no write after the promotion: there was "
                  "no split brain to measure" if split.demoted_lost == 0 else
                  f"{self.rpo.lost_after_fault - held} writes lost after the fault are not in "
                  "the demoted primary's ledger")
        self.findings.append(Finding("CALIBRATION_FAILED", reason))
        return TargetCheck(key, title, shown, measured, "exact", Verdict.FAIL, reason,
                           self.rpo.lost_after_fault, held)

    # -- backups and restores ------------------------------------------------------------

    def restore_checks(self, backups: list[BackupTaken],
                       restore: Restore | None) -> list[TargetCheck]:
        """Each backup verified; the restored data complete; a PITR on its target."""
        self.backups, self.restore = backups, restore
        rows = [self.backup_verified(b) for b in backups]
        rows.extend(rehearsal_rows(self.ev.steps, self.findings))  # verify: restore
        rows.extend(table_rows(self.ev.concluded, self.findings))
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
            if backup.tool is None:  # no verification on the timeline
                return self.cnv(key, title, shown, "the drill stopped before verifying it")
            return self.cnv(key, title, shown, f"{backup.tool}: {backup.detail}")
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
