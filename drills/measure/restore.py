"""What a restore did to the acknowledged writes, from the backup's consistency point.

docs/measurement.md rule 10. With the consistency point bracketed as [earliest, latest]:

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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from drills.measure.checker import WriteCheck
from drills.measure.ids import Ids, concat
from drills.measure.scan import Joined
from drills.record.history.ops import OK
from drills.record.timeline import Category, Step


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
            verified=None if check is None or check.data.get("verified") is None
            else bool(check.data["verified"]),
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
    present_after_target: Ids
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
    missing_before_point: Ids  # the backup was incomplete
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


def restoring_step(steps: Sequence[Step]) -> Step | None:
    """The last recovery step that restored a backup, if the drill had one."""
    restoring = [s for s in steps if s.category == Category.RECOVERY and s.ok
                 and "restored_from" in s.data]
    return restoring[-1] if restoring else None


def consistency_of(step: Step, backup: BackupTaken, fault: Step) -> tuple[float, float, str]:
    """The [earliest, latest] consistency point a restore went back to, and what it was."""
    t_fault = fault.start.mono
    if "pitr_target_xid" in step.data:
        # the target is the accident itself: its commit, acknowledged at t_fault
        return t_fault, t_fault, ("the recovery target: just before transaction "
                                  f"{step.data['pitr_target_xid']}")
    point = backup.consistency
    return (float(point.get("earliest_mono", t_fault)), float(point.get("latest_mono", t_fault)),
            str(point.get("what", "the backup's consistency point")))


class RestoreScan:
    """What a restore did to each write, beyond the write check (a ``Scanner``).

    For a point-in-time recovery: the writes invoked between the target and the restore
    that are present, and the newest write recovered. For the backup calibration: writes
    made after the consistency point that survived, those in flight across it, and the
    acknowledgement of the first write invoked after it.
    """

    def __init__(self, fault: Step, restore: Step, earliest: float, latest: float) -> None:
        self.t_fault, self.replaced = fault.start.mono, restore.start.mono
        self.earliest, self.latest = earliest, latest
        self._after_target: list[np.ndarray] = []
        self.newest_recovered_ack: float | None = None
        self._kept_after: list[np.ndarray] = []
        self.straddling = 0
        self._first_after = (math.inf, math.nan)  # (invoke, ack) of the first write after

    def add(self, ops: np.ndarray, joined: Joined | None) -> None:
        assert joined is not None, "a restore is measured against the read-back"
        invoke, complete, present = ops["invoke"], ops["complete"], joined.present
        target = self.t_fault
        self._after_target.append(
            ops["id"][(invoke > target) & (invoke < self.replaced) & present])
        acked = (ops["outcome"] == OK) & ~np.isnan(complete)
        recovered = complete[acked & present & (complete <= target)]
        if len(recovered):
            newest = float(recovered.max())
            self.newest_recovered_ack = max(newest, self.newest_recovered_ack or -math.inf)
        after = acked & (invoke > self.latest)
        self._kept_after.append(ops["id"][after & (complete <= self.t_fault) & present])
        self.straddling += int(np.count_nonzero(acked & (invoke <= self.latest)
                                                & (complete >= self.earliest)))
        if after.any():
            first = int(np.argmin(np.where(after, invoke, np.inf)))
            if invoke[first] < self._first_after[0]:
                self._first_after = (float(invoke[first]), float(complete[first]))

    @property
    def present_after_target(self) -> Ids:
        return Ids(np.sort(concat(self._after_target)))

    @property
    def kept_after(self) -> Ids:
        return Ids(np.sort(concat(self._kept_after)))

    @property
    def first_after_ack(self) -> float | None:
        return None if self._first_after[0] == math.inf else self._first_after[1]


def measure_restore(
    steps: Sequence[Step], backups: Sequence[BackupTaken], fault: Step,
    writes: WriteCheck, scanned: RestoreScan | None,
) -> Restore | None:
    """The restore of this drill (the last recovery step restoring a backup), measured."""
    step = restoring_step(steps)
    if step is None or scanned is None:
        return None
    backup = next((b for b in backups if b.name == step.data["restored_from"]), None)
    if backup is None:
        return None
    t_fault = fault.start.mono
    earliest, latest, what = consistency_of(step, backup, fault)
    pitr = None
    if "pitr_target_xid" in step.data:
        pitr = PitrAccuracy(fault.start.mono, fault.start.wall, int(step.data["pitr_target_xid"]),
                            scanned.present_after_target, scanned.newest_recovered_ack)
    # lost and acknowledged before the point: the backup was incomplete
    acks = writes.lost_acks
    before = ~np.isnan(acks) & (acks < earliest)
    missing = writes.lost.array[before]
    after_acks = acks[~before]
    oldest = float(np.nanmin(after_acks)) if np.count_nonzero(~np.isnan(after_acks)) else None
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
        missing_before_point=Ids(missing), lost_after_point=len(after_acks),
        window_s=max(0.0, t_fault - oldest) if oldest is not None else 0.0,
        restore_s=step.duration_s, restored_bytes=step.data.get("bytes"),
        restored_rows=int(rows) if rows is not None else None,
        pitr=pitr, archive=archive,
    )


@dataclass(frozen=True)
class BackupCalibration:
    """Checks a restore against its own consistency point (``Drill.calibrate_backup``)."""

    expected_window_s: float  # t_fault - the consistency point
    #: the oldest lost write must be acknowledged between the point and the acknowledgement
    #: of the first write invoked after it (which must be lost): that span is the tolerance
    tolerance_s: float
    missing_before: int  # acknowledged before the point, missing
    kept_after: Ids  # invoked after the point, acknowledged before the fault, present
    straddling: int  # in flight across the point: either way is right


def calibrate(restore: Restore, fault: Step, scanned: RestoreScan) -> BackupCalibration:
    earliest = restore.consistency_earliest_mono
    t_fault = fault.start.mono
    first_ack = scanned.first_after_ack
    bound = first_ack if first_ack is not None and not math.isnan(first_ack) else t_fault
    return BackupCalibration(
        expected_window_s=t_fault - earliest,
        tolerance_s=max(0.0, min(bound, t_fault) - earliest),
        missing_before=len(restore.missing_before_point),
        kept_after=scanned.kept_after, straddling=scanned.straddling,
    )
