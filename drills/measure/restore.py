"""What a restore did to the acknowledged writes, from the backup's consistency point.

DESIGN.md rule 10. With the consistency point bracketed as [earliest, latest]:

- incomplete backup: acknowledged before ``earliest`` and missing (always a failure);
- lost by design: lost, acknowledged after ``earliest`` (and before the fault); they
  make the measured RPO of the method, counted, with their window;
- PITR accuracy (recovery to just before an accident, whose acknowledged commit is the
  target): every write acknowledged before the target present, none invoked after it
  present, and how far before the target the newest recovered write was acknowledged.

Also: the backups taken (their verification), restore throughput, and what the numbers
imply on the plan's real schedule, labelled as a projection (rule 7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.history import Op, Outcome
from drills.measure.checker import WriteCheck
from drills.timeline import Category, Step


@dataclass(frozen=True)
class BackupTaken:
    """A backup as the timeline recorded it, with its verification."""

    name: str
    service: str
    method: str
    facts: Mapping[str, Any]  # Backup.to_dict() as recorded
    verified: bool | None  # None: never verified (the drill stopped before)
    tool: str | None
    detail: str | None

    @property
    def consistency(self) -> Mapping[str, Any]:
        return dict(self.facts.get("consistency") or {})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "service": self.service, "method": self.method,
                "verified": self.verified, "verified_by": self.tool, "verification": self.detail,
                **{k: v for k, v in self.facts.items() if k not in ("backup", "method",
                                                                    "service")}}


def backups_of(steps: Sequence[Step]) -> list[BackupTaken]:
    """Every backup the drill took, in order, with what its verification said."""
    taken = [s for s in steps if s.category == Category.BACKUP and "backup" in s.data
             and "method" in s.data and s.ok]
    checks = {str(s.data.get("backup")): s for s in steps
              if s.category == Category.BACKUP and "verified" in s.data}
    made = []
    for step in taken:
        name = str(step.data["backup"])
        check = checks.get(name)
        made.append(BackupTaken(
            name=name, service=str(step.data.get("service", "")),
            method=str(step.data["method"]), facts=dict(step.data),
            verified=None if check is None else bool(check.data.get("verified")),
            tool=None if check is None else str(check.data.get("tool")),
            detail=None if check is None else str(check.data.get("detail"))))
    return made


@dataclass(frozen=True)
class PitrAccuracy:
    """How exactly a point-in-time recovery hit its target (the accident)."""

    target_mono: float
    target_wall: float
    target_xid: int | None
    #: invoked after the target and before the restore replaced the data, yet present
    present_after_target: tuple[int, ...]
    newest_recovered_ack_mono: float | None

    @property
    def distance_s(self) -> float | None:
        """How long before the target the newest recovered write was acknowledged."""
        if self.newest_recovered_ack_mono is None:
            return None
        return self.target_mono - self.newest_recovered_ack_mono

    def to_dict(self) -> dict[str, Any]:
        return {"target_mono": self.target_mono, "target_wall": self.target_wall,
                "target_xid": self.target_xid,
                "present_after_target": len(self.present_after_target),
                "present_after_target_ids_first": list(self.present_after_target[:20]),
                "newest_recovered_ack_mono": self.newest_recovered_ack_mono,
                "distance_s": self.distance_s}


@dataclass(frozen=True)
class Restore:
    """A restore's effect on the acknowledged writes, and how fast it went."""

    backup: str
    method: str
    consistency_what: str
    consistency_earliest_mono: float
    consistency_latest_mono: float
    missing_before_point: tuple[int, ...]  # the backup was incomplete
    lost_after_point: int  # lost by the design of the method
    window_s: float  # t_fault - the oldest of those, 0 if none
    restore_s: float | None  # the restore phase
    restored_bytes: int | None
    restored_rows: int | None
    pitr: PitrAccuracy | None
    archive: Mapping[str, Any]  # newest archived segment, archive_timeout

    @property
    def mb_per_s(self) -> float | None:
        if not self.restore_s or self.restored_bytes is None:
            return None
        return self.restored_bytes / 1e6 / self.restore_s

    @property
    def rows_per_s(self) -> float | None:
        if not self.restore_s or self.restored_rows is None:
            return None
        return self.restored_rows / self.restore_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "backup": self.backup, "method": self.method,
            "consistency_point": self.consistency_what,
            "consistency_earliest_mono": self.consistency_earliest_mono,
            "consistency_latest_mono": self.consistency_latest_mono,
            "missing_before_point": len(self.missing_before_point),
            "missing_before_point_ids_first": list(self.missing_before_point[:20]),
            "lost_after_point": self.lost_after_point,
            "window_s": self.window_s,
            "restore_s": self.restore_s, "restored_bytes": self.restored_bytes,
            "restored_rows": self.restored_rows, "mb_per_s": self.mb_per_s,
            "rows_per_s": self.rows_per_s,
            "pitr": self.pitr.to_dict() if self.pitr else None,
            "archive": dict(self.archive),
        }


def measure_restore(
    steps: Sequence[Step], backups: Sequence[BackupTaken], fault: Step,
    writes: WriteCheck, ops: Sequence[Op], present: Mapping[int, str],
) -> Restore | None:
    """The restore of this drill (the last recovery step restoring a backup), measured."""
    restoring = [s for s in steps if s.category == Category.RECOVERY and s.ok
                 and "restored_from" in s.data]
    if not restoring:
        return None
    step = restoring[-1]
    backup = next((b for b in backups if b.name == step.data["restored_from"]), None)
    if backup is None:
        return None
    by_id = {op.id: op for op in ops}
    t_fault = fault.start.mono
    pitr = None
    if "pitr_target_xid" in step.data:
        # the target is the accident itself: its commit, acknowledged at t_fault
        earliest = latest = t_fault
        what = f"the recovery target: just before transaction {step.data['pitr_target_xid']}"
        pitr = _pitr(fault, step, int(step.data["pitr_target_xid"]), ops, present)
    else:
        point = backup.consistency
        earliest = float(point.get("earliest_mono", t_fault))
        latest = float(point.get("latest_mono", t_fault))
        what = str(point.get("what", "the backup's consistency point"))
    missing: list[int] = []
    after: list[int] = []
    for op_id in writes.lost:
        ack = by_id[op_id].complete_mono
        (missing if ack is not None and ack < earliest else after).append(op_id)
    acks = [by_id[i].complete_mono for i in after]
    oldest = min((a for a in acks if a is not None), default=None)
    replay = [s for s in steps if s.category == Category.RECOVERY and s.ok
              and "newest_archived_segment" in s.data]
    archive: dict[str, Any] = {}
    if replay:
        data = replay[-1].data
        archive = {k: data.get(k) for k in ("newest_archived_segment", "newest_archived_wall",
                                             "archived_segments", "timeline", "lsn_after")}
    rows = step.data.get("rows")
    return Restore(
        backup=backup.name, method=backup.method, consistency_what=what,
        consistency_earliest_mono=earliest, consistency_latest_mono=latest,
        missing_before_point=tuple(missing), lost_after_point=len(after),
        window_s=max(0.0, t_fault - oldest) if oldest is not None else 0.0,
        restore_s=step.duration_s, restored_bytes=step.data.get("bytes"),
        restored_rows=int(rows) if rows is not None else None,
        pitr=pitr, archive=archive,
    )


def _pitr(fault: Step, restore: Step, xid: int, ops: Sequence[Op],
          present: Mapping[int, str]) -> PitrAccuracy:
    """PITR accuracy, against the accident's acknowledged commit.

    Writes invoked between the target and the restore that replaced the data must be
    absent (the recovery stopped before them); later ones reached the recovered server.
    """
    target = fault.start
    replaced = restore.start.mono
    after = tuple(sorted(op.id for op in ops if target.mono < op.invoke_mono < replaced
                         and op.id in present))
    recovered = [op.complete_mono for op in ops
                 if op.outcome == Outcome.OK and op.id in present and op.complete_mono is not None
                 and op.complete_mono <= target.mono]
    return PitrAccuracy(target.mono, target.wall, xid, after, max(recovered, default=None))


@dataclass(frozen=True)
class BackupCalibration:
    """Checks a restore against its own consistency point (``Drill.calibrate_backup``)."""

    expected_window_s: float  # t_fault - the consistency point
    #: the oldest lost write must be acknowledged between the point and the acknowledgement
    #: of the first write invoked after it (which must be lost): that span is the tolerance
    tolerance_s: float
    missing_before: int  # acknowledged before the point, missing
    kept_after: tuple[int, ...]  # invoked after the point, acknowledged before the fault, present
    straddling: int  # in flight across the point: either way is right


def calibrate(restore: Restore, fault: Step, ops: Sequence[Op],
              present: Mapping[int, str]) -> BackupCalibration:
    earliest, latest = restore.consistency_earliest_mono, restore.consistency_latest_mono
    t_fault = fault.start.mono
    acked = [op for op in ops if op.outcome == Outcome.OK and op.complete_mono is not None]
    kept_after = tuple(op.id for op in acked if op.invoke_mono > latest
                       and (op.complete_mono or 0.0) <= t_fault and op.id in present)
    straddling = sum(1 for op in acked if op.invoke_mono <= latest
                     and (op.complete_mono or 0.0) >= earliest)
    first_after = min((op for op in acked if op.invoke_mono > latest),
                      key=lambda op: op.invoke_mono, default=None)
    bound = (first_after.complete_mono or t_fault) if first_after else t_fault
    return BackupCalibration(
        expected_window_s=t_fault - earliest,
        tolerance_s=max(0.0, min(bound, t_fault) - earliest),
        missing_before=len(restore.missing_before_point),
        kept_after=kept_after, straddling=straddling,
    )
