"""What a valid plan cannot hold together, found before anything runs (``drill check``).

A contradiction is either *blocking* (the scenario cannot run as written: a restore from
a backup job that does not exist, through a procedure's ``{latest:JOB}``; a procedure
nobody defined, a placeholder where it has no value, recovery steps in an order that
cannot bring a lost server back) or a promise
the plan's own numbers already break (an RPO of 6 h against a daily dump, an RTO shorter
than its manual steps take). The first stops ``drill run`` before anything starts; the
second is said at the start of the run, and the drill then measures how far off it is.
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

    Through a procedure's ``{latest:JOB}`` (a plan's own scenario has no built-in restore
    step: drills.plan.reader_v2 refuses one); names that do not exist are included.
    """
    found: list[str] = []
    for step in scenario.recovery:
        if step.action is StepAction.PROCEDURE and step.target in plan.procedures:
            found += [n for n in plan.procedures[step.target].backup_jobs() if n not in found]
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
                  for c in (*_scenario(plan, name, plan.scenarios[name]),
                            *_order(plan, name, plan.scenarios[name]))]
    for name, scenario in plan.scenarios.items():
        if scenario.source is Source.BUILTIN:
            found += [replace(c, scenarios=(name,)) for c in _builtin(name, scenario)]
    for i, setup in enumerate(plan.stack.setup if plan.stack else ()):
        if setup not in plan.procedures:
            found.append(Contradiction(
                f"stack.setup[{i}]", f"procedure {setup} does not exist; `procedures` has: "
                f"{', '.join(plan.procedures) or 'none'}", blocking=True, scenarios=steps))
    found += _placeholder_contexts(plan, steps)
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


#: where a placeholder has a value: ``{latest:JOB}`` once the drill took the backup, for the
#: recovery that restores it; ``{backup_dir}`` while a backup job's procedure takes it
_ONLY_IN = {"latest": "recovery", "backup_dir": "backup"}


def _uses(plan: Plan, steps: tuple[str, ...]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Every use of a procedure: (procedure, context, the key using it, its scenarios)."""
    uses = [(p, "setup", f"stack.setup[{i}]", steps)
            for i, p in enumerate(plan.stack.setup if plan.stack else ())]
    for job_name, job in plan.backups.items():
        if job.procedure is not None:
            restoring = tuple(n for n in steps
                              if job_name in restored_jobs(plan, plan.scenarios[n]))
            uses.append((job.procedure, "backup", f"backups.{job_name}.procedure",
                         restoring or steps))
    for name in steps:
        scenario = plan.scenarios[name]
        if scenario.fault is not None and scenario.fault.procedure is not None:
            uses.append((scenario.fault.procedure, "fault", f"scenarios.{name}.fault.procedure",
                         (name,)))
        uses += [(s.target, "recovery", f"scenarios.{name}.recovery[{i}].procedure", (name,))
                 for i, s in enumerate(scenario.recovery) if s.action is StepAction.PROCEDURE]
    return uses


def _placeholder_contexts(plan: Plan, steps: tuple[str, ...]) -> list[Contradiction]:
    """A placeholder where it has no value: known from the plan, refused before the start."""
    found: list[Contradiction] = []
    for proc_name, context, used_at, scenarios in _uses(plan, steps):
        procedure = plan.procedures.get(proc_name)
        if procedure is None:
            continue  # said where it is named
        texts = [(f"run[{i}]", t) for i, t in enumerate(procedure.argv)]
        texts += [(f"env.{k}", t) for k, t in procedure.env.items()]
        for where, text in texts:
            for ph, arg in placeholders(text):
                if _ONLY_IN.get(ph, context) == context:
                    continue
                written = f"{{{ph}:{arg}}}" if arg else f"{{{ph}}}"
                fix = ("the latest backup of a job is known once the drill took it, and is "
                       "given to the recovery steps' procedures only: restore it in a recovery "
                       "step (scenarios.NAME.recovery: [{procedure: ...}])"
                       if ph == "latest" else
                       "{backup_dir} exists only while a backup job's procedure takes its "
                       "backup (backups.JOB.procedure): write into it there, and read the "
                       "backup in the recovery with {latest:JOB}")
                found.append(Contradiction(
                    f"procedures.{proc_name}.{where}",
                    f"{written} in procedure {proc_name}, which runs as {used_at} "
                    f"({_CONTEXT[context]}): {fix}", blocking=True, scenarios=scenarios))
    return found


_CONTEXT = {"setup": "the stack's setup, before any backup",
            "backup": "a backup job's procedure",
            "fault": "the scenario's fault",
            "recovery": "a recovery step"}


def _order(plan: Plan, name: str, scenario: ScenarioPlan) -> list[Contradiction]:
    """Recovery steps that provably cannot bring back a lost server, in the order written.

    Only for ``lose_server`` (its container and data are gone, no restart policy brings
    them back): a restart of it (there is no data to start on), a provision after a
    procedure restored one of its backups (the provision replaces what was restored), and
    a recovery with no step that could bring it back (no provision of it, no procedure).
    """
    fault = scenario.fault
    if fault is None or fault.action is not FaultAction.LOSE_SERVER:
        return []
    lost, key = fault.service, f"scenarios.{name}.recovery"
    found: list[Contradiction] = []
    restored: tuple[int, str, str] | None = None  # the first restore into the lost server
    for i, step in enumerate(scenario.recovery):
        if step.action is StepAction.RESTART and step.target == lost:
            found.append(Contradiction(
                f"{key}[{i}].restart", f"the fault loses {lost}'s server and its data "
                f"(lose_server): a restart starts it again on its data, which is gone; write "
                f"{{provision: {lost}}} (a new, empty server), then the procedure that "
                "restores it", blocking=True))
        if step.action is StepAction.PROVISION and step.target == lost and restored:
            at, proc, job = restored
            found.append(Contradiction(
                f"{key}[{i}].provision", f"provisions a new, empty {lost} after recovery[{at}] "
                f"(procedure {proc}) restored backup job {job} into it: the restore ran "
                f"against a server that was lost, and this replaces it with an empty one; "
                f"put {{provision: {lost}}} before {{procedure: {proc}}}", blocking=True))
        procedure = plan.procedures.get(step.target)
        if step.action is StepAction.PROCEDURE and procedure is not None and restored is None:
            jobs = [j for j in procedure.backup_jobs()
                    if j in plan.backups and plan.backups[j].service == lost]
            restored = (i, step.target, jobs[0]) if jobs else None
    stack = plan.stack
    replicas = stack.replicas_of(lost) if stack is not None else ()
    if not any(s.action is StepAction.PROCEDURE or (s.target == lost and s.action in (
            StepAction.PROVISION, StepAction.RESTART)) or (
            s.action is StepAction.PROMOTE and s.target in replicas)
            for s in scenario.recovery):
        found.append(Contradiction(
            key, f"the fault loses {lost}'s server and its data (lose_server), and no recovery "
            f"step brings it back (no provision of {lost}, no procedure): the drill would "
            f"wait for {lost} until recovery_timeout and fail; add {{provision: {lost}}}, then "
            "the procedure that restores it", blocking=True))
    return found
