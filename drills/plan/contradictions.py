"""What a valid plan cannot hold together, found before anything runs (``drill check``).

A contradiction is either *blocking* (the scenario cannot run as written: a restore from
a backup job that does not exist, a procedure nobody defined) or a promise the plan's own
numbers already break (an RPO of 6 h against a daily dump, an RTO shorter than its manual
steps take). The first stops ``drill run`` before anything starts; the second is said at
the start of the run, and the drill then measures how far off it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from drills.catalogue import CATALOGUE
from drills.plan.chains import worst_case
from drills.plan.model import Acceptance, Plan, ScenarioPlan
from drills.plan.procedure_spec import BackupJob, needs_arg, placeholders
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


def target_of(item: Contradiction) -> str | None:
    """The scenario target a contradiction is about (rpo, rto, phases.detection), if any."""
    _, found, target = item.key.partition(".targets.")
    return target if found else None


def acceptance_of(plan: Plan, item: Contradiction) -> Acceptance | None:
    """The plan's acceptance of this gap, if its scenario names its target."""
    target = target_of(item)
    if target is None or len(item.scenarios) != 1:
        return None
    scenario = plan.scenarios.get(item.scenarios[0])
    accepts = scenario.accepts if scenario is not None else ()
    return next((a for a in accepts if a.covers(target)), None)


def gaps(plan: Plan, name: str) -> list[tuple[Contradiction, Acceptance | None]]:
    """What scenario ``name`` cannot hold on the plan's real schedule, with any acceptance.

    Each becomes a verdict row of the drill (drills.measure.plan_gaps): ``drill run`` and
    ``drill check`` conclude the same about the plan.
    """
    return [(c, acceptance_of(plan, c)) for c in find(plan)
            if not c.blocking and c.scenarios == (name,) and target_of(c) is not None]


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
    for name, scenario in plan.scenarios.items():
        if scenario.source is Source.BUILTIN:
            found += [replace(c, scenarios=(name,)) for c in _builtin(name, scenario)]
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


def builtin_chain(scenario: ScenarioPlan) -> dict[str, BackupJob]:
    """A built-in drill's backups on the plan's real schedule, as a chain of jobs.

    The same reading as a team's plan: a dump (or RDB, or AOF copy) every ``backup.every``;
    WAL archiving as a link continuing the base backups, every ``archive_timeout_s``.
    """
    info = CATALOGUE[scenario.catalogue_name]
    every = scenario.backup.every_s if scenario.backup else None
    service = info.kind
    if info.rpo_bound == "backup" and every is not None:
        return {"backup": BackupJob("backup", service, "built-in", None, every)}
    if info.rpo_bound == "archive":
        archive = float(scenario.params.get("archive_timeout_s") or 0.0)
        jobs = {"wal": BackupJob("wal", service, None, None, archive,
                                 base="base" if every is not None else None)}
        if every is not None:
            jobs["base"] = BackupJob("base", service, "built-in", None, every)
        return jobs
    return {}


def _builtin(name: str, scenario: ScenarioPlan) -> list[Contradiction]:
    """What a built-in drill's plan cannot hold on its real schedule."""
    rpo = scenario.targets.rpo_s
    jobs = builtin_chain(scenario)
    if rpo is None or not jobs:
        return []
    finest = "wal" if "wal" in jobs else "backup"
    worst = worst_case(jobs, finest)
    if not worst.misses(rpo):
        return []
    what = "WAL archived" if finest == "wal" else "backup taken"
    return [Contradiction(
        f"scenarios.{name}.targets.rpo",
        f"RPO {span(rpo)}, but on the plan's real schedule ({what} {worst.arithmetic()}) a "
        "loss just before the next one loses everything since the last"
        + (f": more than {span(worst.every_s)}" if worst.lag_s is None else ""),
        blocking=False)]


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
        if not job.taken:
            found.append(Contradiction(
                f"{key}.recovery", f"restores the latest backup of job {job_name}, a link "
                f"that continues {job.base} and that the drill does not take (the server "
                f"keeps it): name {{latest:{job.base}}} and let the restore replay the link",
                blocking=True))
            continue
        worst = worst_case(plan.backups, job_name)
        if targets.rpo_s is not None and worst.misses(targets.rpo_s):
            found.append(Contradiction(
                f"{key}.targets.rpo",
                f"RPO {span(targets.rpo_s)}, but the recovery restores backup job {job_name}, "
                f"taken every {span(job.every_s)}: a loss just before the next backup loses "
                f"up to {worst.arithmetic()}"
                + (f": more than {span(worst.every_s)}" if worst.lag_s is None
                   else f" = {span(worst.bound_s)}"), blocking=False))
        if (job.retention_s is not None and targets.phases.get("detection") is not None
                and targets.phases["detection"] >= job.retention_s):
            found.append(Contradiction(
                f"{key}.targets.phases.detection",
                f"detection may take up to {span(targets.phases['detection'])}, but backups "
                f"of job {job_name} are kept only {span(job.retention_s)}: a loss detected "
                "that late is restored from a backup that no longer holds the data",
                blocking=False))
        if targets.max_lost_writes == 0:
            found.append(Contradiction(
                f"{key}.targets.max_lost_writes",
                f"0 lost writes, but the recovery restores backup job {job_name} (every "
                f"{span(job.every_s)}): every write acknowledged after the backup is lost by "
                "design", blocking=False))
    manual = scenario.stated_manual_s()
    if targets.rto_s is not None and manual and manual >= targets.rto_s:
        found.append(Contradiction(
            f"{key}.targets.rto",
            f"RTO {span(targets.rto_s)}, but its manual steps alone state {span(manual)}, "
            "leaving nothing for detection, the measured steps and verification",
            blocking=False))
    for phase, limit in targets.phases.items():
        stated = sum(s.takes_s or 0.0 for s in scenario.recovery
                     if not s.measured and s.phase.value == phase)
        if stated and stated >= limit:
            found.append(Contradiction(
                f"{key}.targets.phases.{phase}",
                f"{phase} limit {span(limit)}, but its manual steps in that phase state "
                f"{span(stated)}", blocking=False))
    limits = sum(targets.phases.values())
    if targets.rto_s is not None and len(targets.phases) > 1 and limits > targets.rto_s:
        found.append(Contradiction(
            f"{key}.targets.phases",
            "the phase limits add up to " + " + ".join(
                f"{p} {span(v)}" for p, v in targets.phases.items())
            + f" = {span(limits)}, more than the RTO {span(targets.rto_s)}: each phase may "
            "keep its limit and the recovery still miss the RTO", blocking=False))
    if (scenario.fault and scenario.fault.action is FaultAction.FREEZE
            and targets.rto_s is not None and scenario.fault.for_s is not None
            and scenario.fault.for_s > targets.rto_s):
        found.append(Contradiction(
            f"{key}.targets.rto", f"RTO {span(targets.rto_s)}, but the fault itself freezes "
            f"{scenario.fault.service} for {span(scenario.fault.for_s)}", blocking=False))
    return found
