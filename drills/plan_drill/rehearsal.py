"""A backup job's restore rehearsal (``verify: restore``), run right after the backup.

The backup just taken is restored into a scratch PostgreSQL (drills.kinds.postgres.scratch)
by the plan's own restore procedure (the one naming ``{latest:JOB}``), with the job's
service pointing at the scratch server in every placeholder and ``DRILL_<SVC>_*`` variable.
Then every ``sql`` check of the scenarios restoring the job, on the job's service, runs
there, and the scratch server's tables are listed. All of it goes on one timeline step,
"rehearse restore of JOB" (Category.BACKUP), judged by drills.measure.rehearsal: a dump
that needs a missing role or leaves out a table is caught before the fault.

A rehearsal that fails does not stop the drill: the real restore then shows what the
failure costs. The step ends not ok unless the rehearsal passed, so the runbook says so.

A procedure that reaches the database through ``docker compose exec`` gets a Compose
project of its own that drills never brings up (``<project>-rehearsal``): it reaches no
container, and the rehearsal fails saying so in its log, rather than restoring into the
drill's live database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from drills import kinds
from drills.drill import Drill
from drills.errors import DrillError, RecoveryError, StackError
from drills.measure.rehearsal import outcome
from drills.measure.tables import INVENTORY_AT_BACKUP, latest_inventory
from drills.measure.verdict import Verdict
from drills.plan.contradictions import restored_jobs
from drills.plan.model import Plan
from drills.plan.procedure_spec import BackupJob
from drills.plan.scenario_spec import CheckKind, CheckSpec
from drills.plan_drill.checks import run_check
from drills.procedures.context import ProcedureContext, ServiceAccess
from drills.procedures.runner import run
from drills.record.timeline import Category
from drills.stack.service import Service


class Rehearsal(Exception):
    """Ends the rehearsal's step not ok ("Rehearsal: fail: ..."); caught right after it."""


def sql_checks(plan: Plan, job: BackupJob) -> list[CheckSpec]:
    """The ``sql`` checks on the job's service of every scenario that restores the job."""
    found: list[CheckSpec] = []
    for scenario in plan.scenarios.values():
        if job.name not in restored_jobs(plan, scenario):
            continue
        found += [c for c in scenario.checks if c.kind is CheckKind.SQL
                  and c.service == job.service and c not in found]
    return found


def _inventory(service: Service) -> dict[str, int | None]:
    """The service's tables and their row counts (drills.measure.tables); StackError if not."""
    take = getattr(kinds.get(service.kind).store(), "inventory", None)
    if take is None:
        raise StackError(f"drills cannot list the tables of a {service.kind} service")
    return dict(take(service.endpoint))


def tables_now(service: Service) -> dict[str, int | None] | None:
    """The service's tables and row counts now (None if they cannot be listed)."""
    try:
        return _inventory(service)
    except DrillError:
        return None


def _at_backup(drill: Drill, service: str) -> Any:
    found = latest_inventory(drill.timeline.events, service, INVENTORY_AT_BACKUP)
    return found.data.get("tables") if found else None


def rehearse(drill: Drill, plan: Plan, job: BackupJob, ctx: ProcedureContext,
             env: Mapping[str, str], before: Mapping[str, int | None] | None) -> None:
    """Rehearse the restore of the backup of ``job`` just taken; its step records all."""
    assert job.rehearse is not None
    procedure = plan.procedures[job.rehearse]
    try:
        with drill.timeline.step(f"rehearse restore of {job.name}", Category.BACKUP,
                                 rehearsal=job.name, service=job.service,
                                 procedure=procedure.name) as extra:
            extra.update(tables_before_backup=before,
                         tables_at_backup=_at_backup(drill, job.service))
            _run(drill, plan, job, ctx, env, extra)
            found = outcome({"procedure": procedure.name, "service": job.service, **extra})
            if found.verdict != Verdict.PASS:
                raise Rehearsal(f"{found.verdict}: {found.reason}")
    except Rehearsal:
        pass  # on the record; the drill goes on to the fault


def _run(drill: Drill, plan: Plan, job: BackupJob, ctx: ProcedureContext,
         env: Mapping[str, str], extra: dict[str, Any]) -> None:
    from drills.kinds.postgres.scratch import scratch_postgres
    from drills.runtime.local import LocalRuntime

    assert job.rehearse is not None
    procedure = plan.procedures[job.rehearse]
    live = ctx.services.get(job.service, ServiceAccess())
    tag = re.sub(r"[^a-z0-9_-]+", "-", job.name.lower())[:40]
    started = False
    try:
        with scratch_postgres(LocalRuntime(drill.run_id, drill.files.logs), f"rehearsal-{tag}",
                              live.user, live.database) as scratch:
            started = True
            ep = scratch.endpoint
            extra["scratch"] = {"host": ep.host, "port": ep.port, "user": ep.user,
                                "database": ep.database}
            access = ServiceAccess(host=ep.host, port=ep.port, user=ep.user,
                                   database=ep.database, password=ep.password)
            rctx = replace(ctx, services={**ctx.services, job.service: access},
                           project=f"{ctx.project}-rehearsal" if ctx.project else None,
                           latest=dict(ctx.latest), latest_names=dict(ctx.latest_names),
                           backup_dir=None)
            try:
                done = run(procedure, rctx, f"rehearsal-{tag}-{procedure.name}.log")
            except RecoveryError as exc:  # it could not be started at all
                extra.update(restored=False, procedure_error=str(exc))
            else:
                extra.update(restored=done.ok, restore_s=round(done.duration_s, 6),
                             command=done.to_dict())
                if not done.ok:
                    extra["procedure_error"] = f"{done.outcome()}:\n{done.tail()}"
            extra["checks"] = [_check(c, scratch, env) for c in sql_checks(plan, job)]
            try:
                extra["tables_restored"] = _inventory(scratch)
            except DrillError as exc:
                extra["tables_error"] = str(exc)[:400]
    except DrillError as exc:
        extra["could_not_verify"] = (f"the rehearsal stopped: {exc}" if started else
                                     f"no scratch PostgreSQL could be started here: {exc}")


def _check(check: CheckSpec, scratch: Service, env: Mapping[str, str]) -> dict[str, Any]:
    assert check.service is not None and check.bound is not None
    verdict, detail, _ = run_check(check, {check.service: scratch}, check.service, env)
    return {"check": f"`{check.query}` {check.bound.describe()}", "verdict": str(verdict),
            "detail": detail}
