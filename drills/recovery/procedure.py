"""One of the team's own recovery commands as a recovery step: it took as long as it ran."""

from __future__ import annotations

from drills.errors import RecoveryProcedureFailed
from drills.plan.procedure_spec import Procedure
from drills.procedures.context import ProcedureContext
from drills.procedures.runner import run
from drills.record.action import Action
from drills.recovery.base import RecoveryStep


class RunProcedure(RecoveryStep):
    """One of the team's recovery commands (``scripts/restore-db.sh latest.sql.gz``)."""

    def __init__(self, procedure: Procedure, ctx: ProcedureContext) -> None:
        self.procedure, self.ctx = procedure, ctx
        self.name = f"procedure {procedure.name}"

    def run(self, timeout_s: float) -> Action:
        # the procedure's own `timeout` bounds it (a restore may take longer than the
        # drill's recovery_timeout, which bounds waiting for the service to answer)
        done = run(self.procedure, self.ctx, self.ctx.log_name(self.procedure.name))
        if not done.ok:
            raise RecoveryProcedureFailed(
                f"procedure {self.procedure.name} ({' '.join(done.argv)}) failed: "
                f"{done.outcome()}:\n{done.tail()}", done.failure_facts())
        facts: dict[str, object] = {"phase": "procedure", **done.facts()}
        restored = [self.ctx.latest_names[j] for j in self.procedure.backup_jobs()
                    if j in self.ctx.latest_names]
        if restored:  # it restores a backup of the drill: measured as a restore
            facts["restored_from"] = restored[-1]
        return Action(f"the team's command `{' '.join(done.argv)}` ({done.outcome()})",
                      done.started, facts)
