"""What a drill's figures imply on the plan's real schedule: projections, never measurements.

A drill cannot wait a day for the daily dump (docs/measurement.md rule 7): it takes its backup
seconds before the fault. The measured RPO is then seconds; on the real schedule the
worst case is a whole interval plus the backup's own duration, since a dump's data is
from its start, not its end. Where the plan states the production data size, the restore
time is scaled from the measured throughput. Both are shown apart, labelled projections.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.measure.restore import BackupTaken, Restore
from drills.measure.rpo import Rpo


@dataclass(frozen=True)
class Projection:
    """Figures on the real schedule and data size, derived from measured ones."""

    backup_every_s: float | None
    measured_rpo_s: float | None
    worst_case_rpo_s: float | None  # on the real schedule
    rpo_basis: str
    production_bytes: int | None
    measured_restore_s: float | None
    measured_bytes: int | None
    projected_restore_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"label": "projection, not measured", "backup_every_s": self.backup_every_s,
                "measured_rpo_s": self.measured_rpo_s, "worst_case_rpo_s": self.worst_case_rpo_s,
                "rpo_basis": self.rpo_basis, "production_bytes": self.production_bytes,
                "measured_restore_s": self.measured_restore_s,
                "measured_bytes": self.measured_bytes,
                "projected_restore_s": self.projected_restore_s}


def project(scenario: Mapping[str, Any], backups: Sequence[BackupTaken],
            restore: Restore | None, rpo: Rpo | None) -> Projection | None:
    """The projection for a drill whose plan names a real schedule or production size."""
    schedule = scenario.get("backup") or {}
    every = schedule.get("every_s")
    production = schedule.get("production_bytes")
    if every is None and production is None:
        return None
    used = next((b for b in backups if restore and b.name == restore.backup),
                backups[-1] if backups else None)
    worst, basis = None, "no backup was taken"
    if used is not None and every is not None:
        duration = float(used.facts.get("duration_s") or 0.0)
        archive = (scenario.get("params") or {}).get("archive_timeout_s")
        if "WAL" in used.method and archive:
            # a chain (drills.plan.chains): its finest link, WAL archived every
            # archive_timeout, bounds the loss; the base backups bound the replay time
            worst = float(archive)
            basis = (f"a chain: base backups every {every:g} s, WAL archived at least every "
                     f"{float(archive):g} s (archive_timeout); a failure just before a segment "
                     "is archived loses up to archive_timeout plus the archiving's own delay")
        elif "WAL" in used.method:
            basis = ("WAL archiving: the loss is bounded by archive_timeout, not by the "
                     "base backup schedule, which bounds the replay time")
        else:
            worst = float(every) + duration
            basis = (f"a failure just before the next backup loses everything since the last "
                     f"one's consistency point: every {every:g} s + its duration "
                     f"{duration:.2f} s")
    scaled = None
    if production and restore and restore.restore_s and restore.restored_bytes:
        scaled = restore.restore_s * float(production) / float(restore.restored_bytes)
    return Projection(
        backup_every_s=float(every) if every is not None else None,
        measured_rpo_s=rpo.window_s if rpo else None, worst_case_rpo_s=worst, rpo_basis=basis,
        production_bytes=int(production) if production else None,
        measured_restore_s=restore.restore_s if restore else None,
        measured_bytes=restore.restored_bytes if restore else None,
        projected_restore_s=scaled,
    )
