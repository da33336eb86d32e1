"""drills: turn a disaster-recovery plan into measured drills.

The public API a scenario needs; everything else is internal and may change.
"""

from drills.drill import Drill
from drills.errors import DrillError, PlanError
from drills.faults import Fault, Freeze, Kill, SilentDelete
from drills.history import Outcome
from drills.measure.evaluate import DrillResult, evaluate
from drills.measure.verdict import Verdict
from drills.plan import Plan, ScenarioPlan, load_plan
from drills.recovery import RecoveryStep, Restart
from drills.stack.settings import PostgresSettings, RedisSettings

__all__ = [
    "Drill",
    "DrillError",
    "DrillResult",
    "Fault",
    "Freeze",
    "Kill",
    "Outcome",
    "Plan",
    "PlanError",
    "PostgresSettings",
    "RecoveryStep",
    "RedisSettings",
    "Restart",
    "ScenarioPlan",
    "SilentDelete",
    "Verdict",
    "evaluate",
    "load_plan",
]
