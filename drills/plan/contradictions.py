"""What a valid plan cannot hold together, found before anything runs (``drill check``).

A contradiction is either *blocking* (the scenario cannot run as written: a restore from
a backup job that does not exist, a procedure nobody defined) or a promise the plan's own
numbers already break (an RPO of 6 h against a daily dump, an RTO shorter than its manual
steps take). The first stops ``drill run`` before anything starts; the second is said at
the start of the run, and the drill then measures how far off it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from drills.plan.model import Plan, ScenarioPlan
from drills.plan.procedure_spec import needs_arg, placeholders
from drills.plan.scenario_spec import FaultAction, Source, StepAction
from drills.plan.spans import span


@dataclass(frozen=True)
class Contradiction:
    """One thing the plan says that cannot hold, with where it says it."""

    key: str  # the plan key, e.g. "scenarios.server-loss.targets.rpo"
    message: str
    #: the scenario cannot run as written (else: a target its own plan already misses)
    blocking: bool
    #: the scenarios it concerns; empty: the plan as a whole
    scenarios: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def restored_jobs(plan: Plan, scenario: ScenarioPlan) -> list[str]:
    """The backup jobs a scenario's recovery restores from, in order.

    Directly (``restore: JOB``) or through a procedure's ``{latest:JOB}``; names that do
    not exist are included.
    """
    found: list[str] = []
    for step in scenario.recovery:
        names: list[str] = []
        if step.action is StepAction.RESTORE:
            names = [step.target]
        elif step.action is StepAction.PROCEDURE and step.target in plan.procedures:
            names = plan.procedures[step.target].backup_jobs()
        found += [n for n in names if n not in found]
    return found


def procedures_of(plan: Plan, scenario: ScenarioPlan) -> list[str]:
    """Every procedure a scenario runs: its fault's, its steps', its backups'."""
    names: list[str] = []
    if scenario.fault and scenario.fault.procedure:
        names.append(scenario.fault.procedure)
    for job in restored_jobs(plan, scenario):
        if job in plan.backups and plan.backups[job].procedure:
            names.append(str(plan.backups[job].procedure))
    names += [s.target for s in scenario.recovery if s.action is StepAction.PROCEDURE]
    return list(dict.fromkeys(names))


def find(plan: Plan) -> list[Contradiction]:
    """Every contradiction of the plan, scenario by scenario, then its backup jobs."""
    found: list[Contradiction] = []
    steps = tuple(n for n, s in plan.scenarios.items() if s.source is Source.STEPS)
    for name in steps:
        found += [replace(c, scenarios=(name,))
                  for c in _scenario(plan, name, plan.scenarios[name])]
    for i, setup in enumerate(plan.stack.setup if plan.stack else ()):
        if setup not in plan.procedures:
            found.append(Contradiction(
                f"stack.setup[{i}]", f"procedure {setup} does not exist; `procedures` has: "
                f"{', '.join(plan.procedures) or 'none'}", blocking=True, scenarios=steps))
    for name, job in plan.backups.items():
        if job.retention_s is not None and job.retention_s < job.every_s:
            found.append(Contradiction(
                f"backups.{name}.retention",
                f"backups are kept {span(job.retention_s)} but taken every "
                f"{span(job.every_s)}: for part of each interval no backup exists at all",
                blocking=False))
    return found


def _scenario(plan: Plan, name: str, scenario: ScenarioPlan) -> list[Contradiction]:
    key = f"scenarios.{name}"
    found: list[Contradiction] = []
    for i, step in enumerate(scenario.recovery):
        where = f"{key}.recovery[{i}]"
        if step.action is StepAction.PROCEDURE and step.target not in plan.procedures:
            found.append(Contradiction(
                f"{where}.procedure", f"procedure {step.target} does not exist; `procedures` "
                f"has: {', '.join(plan.procedures) or 'none'}", blocking=True))
        if step.action is StepAction.RESTORE:
            job = plan.backups.get(step.target)
            if job is None:
                found.append(Contradiction(
                    f"{where}.restore", f"restores backup job {step.target}, which does not "
                    f"exist; `backups` has: {', '.join(plan.backups) or 'none'}",
                    blocking=True))
            else:
                found.append(Contradiction(
                    f"{where}.restore", f"a built-in restore step in a plan's own scenario: "
                    "drills restores its built-in backups only inside its built-in scenarios "
                    f"(builtin: postgres-restore-dump, ...); restore job {step.target} with "
                    "your own procedure ({latest:" + step.target + "})", blocking=True))
    for proc_name in procedures_of(plan, scenario):
        procedure = plan.procedures.get(proc_name)
        if procedure is None:
            continue  # said above
        for text in (*procedure.argv, *procedure.env.values()):
            for ph, arg in placeholders(text):
                if not needs_arg(ph) or arg is None:
                    continue
                known = plan.backups if ph == "latest" else (
                    plan.stack.services if plan.stack else {})
                if arg not in known:
                    what = "backup job" if ph == "latest" else "service"
                    found.append(Contradiction(
                        f"procedures.{proc_name}", f"{{{ph}:{arg}}} names {what} {arg}, which "
                        f"does not exist (used by scenario {name})", blocking=True))
    for job_name in restored_jobs(plan, scenario):
        job = plan.backups.get(job_name)
        if job is not None and job.method is not None:
            found.append(Contradiction(
                f"backups.{job_name}.method", f"scenario {name} restores job {job_name}, taken "
                f"with drills' built-in {job.method}: built-in methods serve the built-in "
                "scenarios (builtin: postgres-restore-dump, ...); for your own scenario, take "
                "the job with your backup procedure", blocking=True))
    targets = scenario.targets
    for job_name in restored_jobs(plan, scenario):
        job = plan.backups.get(job_name)
        if job is None:
            if not any(c.blocking and job_name in c.message for c in found):
                found.append(Contradiction(
                    f"{key}.recovery", f"restores the latest backup of job {job_name}, which "
                    f"does not exist; `backups` has: {', '.join(plan.backups) or 'none'}",
                    blocking=True))
            continue
        if targets.rpo_s is not None and targets.rpo_s < job.every_s:
            found.append(Contradiction(
                f"{key}.targets.rpo",
                f"RPO {span(targets.rpo_s)}, but the recovery restores backup job {job_name}, "
                f"taken every {span(job.every_s)}: a loss just before the next backup loses "
                f"up to {span(job.every_s)} of writes, plus the time the backup takes",
                blocking=False))
        if targets.max_lost_writes == 0:
            found.append(Contradiction(
                f"{key}.targets.max_lost_writes",
                f"0 lost writes, but the recovery restores backup job {job_name} (every "
                f"{span(job.every_s)}): every write acknowledged after the backup is lost by "
                "design", blocking=False))
    manual = scenario.stated_manual_s()
    if targets.rto_s is not None and manual > targets.rto_s:
        found.append(Contradiction(
            f"{key}.targets.rto",
            f"RTO {span(targets.rto_s)}, but its manual steps alone state {span(manual)}",
            blocking=False))
    for phase, limit in targets.phases.items():
        stated = sum(s.takes_s or 0.0 for s in scenario.recovery
                     if not s.measured and s.phase.value == phase)
        if stated > limit:
            found.append(Contradiction(
                f"{key}.targets.phases.{phase}",
                f"{phase} limit {span(limit)}, but its manual steps in that phase state "
                f"{span(stated)}", blocking=False))
    if (scenario.fault and scenario.fault.action is FaultAction.FREEZE
            and targets.rto_s is not None and scenario.fault.for_s is not None
            and scenario.fault.for_s > targets.rto_s):
        found.append(Contradiction(
            f"{key}.targets.rto", f"RTO {span(targets.rto_s)}, but the fault itself freezes "
            f"{scenario.fault.service} for {span(scenario.fault.for_s)}", blocking=False))
    return found
