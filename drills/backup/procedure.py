"""A backup job taken by the team's own command.

Its consistency point lies between the command's start and its end.
"""

from __future__ import annotations

from pathlib import Path

from drills.backup import (
    Backup,
    BackupMethod,
    BackupVerification,
    ConsistencyPoint,
    sha256_of,
    size_of,
)
from drills.backup.content import verify_content
from drills.errors import BackupProcedureFailed, ProcedureFailed
from drills.plan.procedure_spec import BackupJob, Procedure
from drills.procedures.context import ProcedureContext
from drills.procedures.runner import run
from drills.stack.service import Service


class ProcedureBackup(BackupMethod):
    """A backup job taken by the team's own command, into a directory drills gives it.

    drills cannot see inside the command, so the consistency point is bracketed by the
    command's start (every write acknowledged before it is in a dump that starts then) and
    its end (nothing invoked after it can be). Verified by what it made: a dump or a Redis
    file recognised by its content and read to its end by its own tool; anything else is
    "made, N bytes; content judged by the restore", which is could not verify, never a pass
    (drills.backup.content).
    """

    label = "job"

    def __init__(self, service: Service, job: BackupJob, procedure: Procedure,
                 ctx: ProcedureContext, root: Path) -> None:
        self.service, self.job, self.procedure, self.ctx = service, job, procedure, ctx
        self.method = f"the team's procedure {procedure.name} (backup job {job.name})"
        self.label = job.name
        self.root = root
        self.timeout_s = procedure.timeout_s

    def take(self, name: str) -> Backup:
        where = self.root / self.job.name / name
        where.mkdir(parents=True, mode=0o700)
        self.ctx.backup_dir = where
        job = {"job": self.job.name}
        try:
            done = run(self.procedure, self.ctx, self.ctx.log_name(self.procedure.name))
        except ProcedureFailed as exc:  # it could not start: not found, not executable
            raise BackupProcedureFailed(f"backup job {self.job.name}: {exc}",
                                        {**exc.facts, **job}) from exc
        finally:
            self.ctx.backup_dir = None
        if not done.ok:  # the backup did not happen (drills.measure.step_failures)
            raise BackupProcedureFailed(
                f"backup job {self.job.name}: procedure {self.procedure.name} failed: "
                f"{done.outcome()}:\n{done.tail()}", {**done.failure_facts(), **job})
        files = sorted(p for p in where.rglob("*") if p.is_file() and not p.is_symlink())
        latest = files[0] if len(files) == 1 else where  # several files: their directory
        self.ctx.latest[self.job.name] = latest
        self.ctx.latest_names[self.job.name] = name
        point = ConsistencyPoint(done.started, done.ended,
                                 "between the start and the end of the team's command (its "
                                 "own consistency point is not visible to drills)")
        return Backup(name, self.method, self.service.name, latest, str(latest), point,
                      done.started, done.ended, size_of(latest) if files else 0,
                      sha256_of(latest) if latest.is_file() else "",
                      {"files": [str(p.relative_to(where)) for p in files], **done.facts()})

    def verify(self, backup: Backup) -> BackupVerification:
        path = backup.host_path
        if backup.size_bytes == 0:
            return BackupVerification(False, "size", f"backup job {self.job.name} made nothing in "
                                      f"{path} (the procedure writes into {{backup_dir}})")
        # reading a dump back takes about as long as writing it: at least the job's time
        return verify_content(path, max(600.0, self.timeout_s))
