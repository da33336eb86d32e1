"""The loss verdict of a drill: every lost acknowledged write judged.

The rules are docs/measurement.md rules 4, 12 and 13.

A drill with a ledger always has a loss verdict. The lost acknowledged writes fall in two
classes by when they were acknowledged, each judged by its own target:

- **lost before the fault**: acknowledged by t_fault; their span back from the fault is the
  RPO window, judged by ``rpo``; when the plan states neither ``rpo`` nor
  ``max_lost_writes``, none may be lost ("lost before the fault <= 0");
- **lost after the fault began**: acknowledged during the outage and discarded by the
  recovery (an accident after which the server kept answering, a restore from an older
  backup); judged by ``discard_window`` (those acknowledged within that long after the fault
  are accepted), and by default none may be lost.

``max_lost_writes`` counts both. For restores, the first class is split again at the
backup's consistency point (drills.measure.restore, judged in the "restored data complete"
row). Writes the drill deleted on purpose to calibrate the checker (silent-loss) are the
calibration's to judge, not loss.

A window whose oldest lost write is the drill's first acknowledged write is censored: the
true RPO is at least the figure. A target above it cannot be decided ("could not verify");
a target below it is missed whatever the true figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from drills.measure.checker import WriteCheck
from drills.measure.findings import Finding
from drills.measure.rpo import Rpo
from drills.measure.verdict import TargetCheck, Verdict, fmt_s


@dataclass(frozen=True)
class LossClasses:
    """The lost acknowledged writes of a drill, by class."""

    before_fault: int  # acknowledged by t_fault; the calibration's own deletions left out
    after_fault: int  # acknowledged after t_fault
    deliberate: int  # deleted by the drill itself to calibrate the checker
    window_s: float  # the RPO window: t_fault - the oldest lost acknowledged by t_fault
    window_censored: bool  # the window reaches back to the drill's first acknowledgement
    after_fault_span_s: float  # t_ack - t_fault of the newest write lost after the fault
    acked_before_fault: int
    acked: int
    unknown: int  # writes that got no answer: in doubt, never counted as lost

    @property
    def total(self) -> int:
        """Every lost acknowledged write the plan must accept: both classes."""
        return self.before_fault + self.after_fault

    def to_dict(self) -> dict[str, Any]:
        return {
            "lost_before_fault": self.before_fault,
            "lost_after_fault": self.after_fault,
            "lost_total": self.total,
            "deleted_by_calibration": self.deliberate,
            "rpo_window_s": self.window_s,
            "rpo_window_is_lower_bound": self.window_censored,
            "after_fault_span_s": self.after_fault_span_s,
            "acked_before_fault": self.acked_before_fault,
            "acked": self.acked,
            "unknown": self.unknown,
        }


def classify(writes: WriteCheck, rpo: Rpo, deliberate_ids: Iterable[int]) -> LossClasses:
    """Split the lost writes into their classes."""
    deliberate = np.asarray(sorted(set(deliberate_ids)), dtype=np.int64)
    on_purpose = int(np.count_nonzero(np.isin(writes.lost.array, deliberate))) \
        if len(deliberate) else 0
    return LossClasses(
        before_fault=max(0, rpo.lost_before_fault - on_purpose),
        after_fault=rpo.lost_after_fault,
        deliberate=on_purpose,
        window_s=rpo.window_s,
        window_censored=rpo.censored,
        after_fault_span_s=rpo.after_fault_span_s,
        acked_before_fault=rpo.acked_before_fault,
        acked=writes.acked,
        unknown=writes.unknown,
    )


class LossJudge:
    """The loss rows of one drill's verdict table, with their findings."""

    def __init__(self, loss: LossClasses | None, writes: WriteCheck | None,
                 problem: str | None, after_problem: str | None,
                 findings: list[Finding]) -> None:
        """Judge ``loss``.

        ``problem`` says why the loss before the fault cannot be judged, if it cannot;
        ``after_problem`` the same of the loss after the fault began.
        """
        self.loss, self.writes = loss, writes
        self.problem, self.after_problem = problem, after_problem
        self.findings = findings

    def rows(self, targets: dict[str, Any]) -> list[TargetCheck]:
        rows = []
        rpo, most = targets.get("rpo_s"), targets.get("max_lost_writes")
        if rpo is not None:
            rows.append(self.rpo_row(float(rpo)))
        if most is not None:
            rows.append(self.total_row(int(most)))
        if rpo is None and most is None:
            rows.append(self.before_fault_row())
        window = targets.get("discard_window_s")
        rows.append(self.after_fault_row(None if window is None else float(window)))
        return rows

    def _cnv(self, key: str, title: str, target: str, reason: str,
             target_value: float | None = None) -> TargetCheck:
        self.findings.append(Finding("COULD_NOT_VERIFY", f"{title}: {reason}"))
        return TargetCheck(key, title, target, "n/a", "", Verdict.COULD_NOT_VERIFY, reason,
                           target_value=target_value)

    def _lost_ids(self) -> str:
        assert self.writes is not None
        return self.writes.lost.ranges_text(5)

    def rpo_row(self, target: float) -> TargetCheck:
        key, title, shown = "rpo_s", "RPO window", f"<= {fmt_s(target)}"
        loss = self.loss
        if self.problem or loss is None:
            return self._cnv(key, title, shown, self.problem or "no RPO", target)
        measured = (f"{fmt_s(loss.window_s)} ({loss.before_fault} lost of "
                    f"{loss.acked_before_fault} acknowledged before the fault, "
                    f"{loss.unknown} unknown)")
        if not loss.window_censored:
            if loss.window_s <= target:
                return TargetCheck(key, title, shown, measured,
                                   "exact (per acknowledged write)", Verdict.PASS, "", target,
                                   loss.window_s)
            msg = (f"the oldest lost write was acknowledged {fmt_s(loss.window_s)} before "
                   "the fault")
            self.findings.append(Finding("RPO_EXCEEDED", msg))
            return TargetCheck(key, title, shown, measured, "exact (per acknowledged write)",
                               Verdict.FAIL, msg, target, loss.window_s)
        # docs/measurement.md rule 13: the loss reaches back to the first write of the drill
        measured = f"at least {measured}"
        resolution = "lower bound: the loss reaches back to the drill's first write"
        if loss.window_s > target:
            msg = (f"writes acknowledged at least {fmt_s(loss.window_s)} before the fault are "
                   "lost, back to the first write of the drill")
            self.findings.append(Finding("RPO_EXCEEDED", msg))
            return TargetCheck(key, title, shown, measured, resolution, Verdict.FAIL, msg,
                               target, loss.window_s)
        reason = (f"every write back to the drill's first is lost, so the true window is only "
                  f"known to be at least {fmt_s(loss.window_s)}, which does not decide "
                  f"{shown}; load longer than {fmt_s(target)} before the fault (workload "
                  "warmup) to judge it")
        self.findings.append(Finding("COULD_NOT_VERIFY", f"{title}: {reason}"))
        return TargetCheck(key, title, shown, measured, resolution, Verdict.COULD_NOT_VERIFY,
                           reason, target, loss.window_s)

    def total_row(self, target: int) -> TargetCheck:
        key, title, shown = "max_lost_writes", "lost acknowledged writes", f"<= {target}"
        loss = self.loss
        if self.problem or loss is None:
            return self._cnv(key, title, shown, self.problem or "no write check", target)
        measured = (f"{loss.total} of {loss.acked} acknowledged ({loss.before_fault} before "
                    f"the fault, {loss.after_fault} after it began)")
        if loss.total <= target:
            return TargetCheck(key, title, shown, measured, "exact", Verdict.PASS, "",
                               target, loss.total)
        msg = f"{loss.total} acknowledged writes are gone (ids {self._lost_ids()})"
        self.findings.append(Finding("ACKED_WRITES_LOST", msg))
        return TargetCheck(key, title, shown, measured, "exact", Verdict.FAIL, msg, target,
                           loss.total)

    def before_fault_row(self) -> TargetCheck:
        key, title = "loss.before_fault", "lost before the fault"
        shown = "0 (the plan states no rpo or max_lost_writes)"
        loss = self.loss
        if self.problem or loss is None:
            return self._cnv(key, title, shown, self.problem or "no write check", 0)
        measured = f"{loss.before_fault} of {loss.acked_before_fault} acknowledged before it"
        if loss.deliberate:
            measured += f" ({loss.deliberate} more deleted on purpose by the calibration)"
        if loss.before_fault == 0:
            return TargetCheck(key, title, shown, measured, "exact", Verdict.PASS, "", 0, 0)
        msg = (f"{loss.before_fault} writes acknowledged before the fault are gone (oldest "
               f"{fmt_s(loss.window_s)} before it; ids {self._lost_ids()}); if the plan "
               "accepts such loss, state it (rpo or max_lost_writes)")
        self.findings.append(Finding("ACKED_WRITES_LOST", msg))
        return TargetCheck(key, title, shown, measured, "exact", Verdict.FAIL, msg, 0,
                           loss.before_fault)

    def after_fault_row(self, window: float | None) -> TargetCheck:
        key, title = "loss.after_fault", "lost after the fault began"
        shown = "0" if window is None else \
            f"only writes acknowledged within {fmt_s(window)} of the fault"
        loss = self.loss
        if self.after_problem or loss is None:
            return self._cnv(key, title, shown, self.after_problem or "no write check", window)
        acked_after = loss.acked - loss.acked_before_fault
        measured = f"{loss.after_fault} of {acked_after} acknowledged after the fault began"
        if loss.after_fault:
            measured += (f", the newest {fmt_s(loss.after_fault_span_s)} after it "
                         "(discarded by the recovery)")
        if loss.after_fault == 0 or (window is not None and loss.after_fault_span_s <= window):
            return TargetCheck(key, title, shown, measured, "exact", Verdict.PASS, "", window,
                               loss.after_fault_span_s if window is not None
                               else loss.after_fault)
        msg = (f"{loss.after_fault} writes acknowledged after the fault began were discarded "
               f"by the recovery, the newest {fmt_s(loss.after_fault_span_s)} after the fault; "
               "clients were told they succeeded")
        if window is None:
            msg += "; if the plan accepts this, state discard_window"
        self.findings.append(Finding("LOST_AFTER_FAULT_BEGAN", msg))
        return TargetCheck(key, title, shown, measured, "exact", Verdict.FAIL, msg, window,
                           loss.after_fault_span_s if window is not None else loss.after_fault)
