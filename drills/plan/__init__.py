"""The plan: a team's DR targets and which drills prove them, read from a YAML file.

Strict by design: an unknown key, a wrong type, a value that cannot make sense or a
surprise of YAML itself stops the run before anything starts, with an error naming the
file, the key and what is allowed (drills.plan.read picks the reader of the file's
``version:``; drills.plan.reader, drills.plan.reader_v2, drills.plan.strict_yaml).
Durations are seconds, or strings with a unit: ``150ms``, ``30s``, ``15m``, ``4h``.
"""

from drills.plan.model import (
    BackupSchedule,
    Plan,
    ProbeSpec,
    ScenarioPlan,
    Targets,
    WorkloadSpec,
)
from drills.plan.read import default_plan_path, load_plan

__all__ = ["BackupSchedule", "Plan", "ProbeSpec", "ScenarioPlan", "Targets", "WorkloadSpec",
           "default_plan_path", "load_plan"]
