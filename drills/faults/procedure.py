"""The team's own chaos command as a fault.

It took effect when the command started: an upper bound on the RTO, as the command may
take a moment to hurt.
"""

from __future__ import annotations

from drills.errors import FaultError
from drills.faults.base import Fault
from drills.plan.procedure_spec import Procedure
from drills.procedures.context import ProcedureContext
from drills.procedures.runner import run
from drills.record.action import Action
from drills.stack.service import Service


class ProcedureFault(Fault):
    """The team's chaos command (``tools/chaos/kill_pg.sh``) against one service."""

    def __init__(self, service: Service, procedure: Procedure, ctx: ProcedureContext) -> None:
        super().__init__(service, f"procedure {procedure.name} against {service.name}")
        self.procedure, self.ctx = procedure, ctx

    def inject(self) -> Action:
        done = run(self.procedure, self.ctx, self.ctx.log_name(self.procedure.name))
        if not done.ok:
            raise FaultError(f"procedure {self.procedure.name} ({' '.join(done.argv)}) "
                             f"failed: {done.outcome()}:\n{done.tail()}")
        return Action(f"the team's command `{' '.join(done.argv)}` ({done.outcome()}); t_fault "
                      "is when it started", done.started, done.facts())
