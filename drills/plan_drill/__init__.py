"""A scenario the plan spells out (fault, recovery, checks), run as a drill.

The order is the one ``drill check`` prints (drills.plan.preview):

1. the stack: the team's compose project (drills.runtime.own_compose) or drills' own
   servers on the run's runtime;
2. load into drills' write ledger in the ledger service, probed with every service's
   health check;
3. the backups the recovery will restore, each job taken once (and, with ``verify:
   restore``, rehearsed into a scratch server: drills.plan_drill.rehearsal), and the fault
   its compressed interval after the backup started: the worst moment of its schedule;
4. the fault, detection, each recovery step in order (procedures, built-in steps, and
   manual steps that take no time here but count in the RTO), the wait for the service;
5. the plan's checks, the hold, and the read-back of the ledger.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from drills import kinds
from drills.backup.procedure import ProcedureBackup
from drills.drill import Drill
from drills.errors import DrillError, StackError, UsageError
from drills.faults.base import Fault
from drills.faults.data import LoseData
from drills.faults.procedure import ProcedureFault
from drills.faults.process import Freeze, Kill
from drills.measure.verdict import Verdict
from drills.plan.contradictions import find, restored_jobs
from drills.plan.interpolate import expand
from drills.plan.model import Plan, ScenarioPlan
from drills.plan.scenario_spec import DetectSpec, FaultAction, StepAction
from drills.plan.stack_spec import HealthCheck, StackSpec
from drills.plan_drill.checks import run_check
from drills.plan_drill.rehearsal import rehearse, tables_now
from drills.procedures.context import ProcedureContext, ServiceAccess
from drills.record.timeline import Category, EventKind
from drills.recovery.procedure import RunProcedure
from drills.recovery.provision import Provision
from drills.recovery.restart import Restart
from drills.replication import failover_plan
from drills.runtime.local import LocalRuntime
from drills.runtime.own_compose import OwnComposeRuntime, OwnComposeService, resolve_health
from drills.stack.service import Service
from drills.stack.stack import Stack
from drills.workload.background import Background


def refuse_blocking(plan: Plan, scenario: ScenarioPlan) -> None:
    """A scenario that cannot run as written stops here, before anything starts."""
    blocking = [c for c in find(plan) if c.blocking and
                (not c.scenarios or scenario.name in c.scenarios)]
    if blocking:
        raise UsageError(f"{plan.path}: scenario {scenario.name} cannot run as written "
                         "(`drill check` says the same):\n  - "
                         + "\n  - ".join(str(c) for c in blocking))


def bring_up(drill: Drill, stack: StackSpec) -> Stack:
    """The plan's stack: the team's compose project, or drills' servers of each kind."""
    if stack.own:
        return drill.stack(using=partial(OwnComposeRuntime, spec=stack), **stack.services)
    settings: dict[str, Any] = {}
    kinds_of = {name: svc.kind for name, svc in stack.services.items()}
    for name, svc in stack.services.items():
        known = kinds.find(svc.kind)
        if known is None or not known.plan_builtin:
            raise StackError(f"stack.services.{name}: drills cannot start a {svc.kind} server "
                             "itself; name your compose file in stack.compose to drill it")
        made: Any = known.plan_settings(name, kinds_of)  # a dataclass of the kind's
        # replica_of, synchronous_standby_names: checked against the kind by the reader
        settings[name] = replace(made, **svc.replication) if svc.replication else made
    return drill.stack(**settings)


def _access(service: Service) -> ServiceAccess:
    ep = service.endpoint
    url = service.url if isinstance(service, OwnComposeService) else None
    known = kinds.find(service.kind)
    if url is None and known is not None and known.serves_http:
        url = f"http://{ep.host}:{ep.port}"
    return ServiceAccess(host=ep.host, port=ep.port, url=url, user=ep.user,
                         database=ep.database, password=ep.password or None)


def _health(stack: Stack, spec: StackSpec,
            ctx: ProcedureContext) -> list[tuple[str, HealthCheck]]:
    checks = []
    for service in stack:
        check = service.health if isinstance(service, OwnComposeService) else \
            resolve_health(spec.services[service.name].health, os.environ,
                           f"stack.services.{service.name}.health")
        if check is not None and check.url is not None:  # {url:SVC}: known now
            check = replace(check, url=ctx.fill(check.url, f"{service.name}'s health check"))
        if check is not None:
            checks.append((service.name, check))
    return checks


def _path_first(stack: Stack) -> tuple[str, ...]:
    """The directories of the server binaries the local runtime runs (pg_dump, psql...)."""
    if not isinstance(stack.runtime, LocalRuntime):
        return ()
    found: list[str] = []
    for service in stack:
        try:
            for where in kinds.get(service.kind).local_servers().values():
                path = Path(str(where))
                folder = str(path if path.is_dir() else path.parent)
                if folder not in found:
                    found.append(folder)
        except DrillError:
            continue
    return tuple(found)


def _fault(drill: Drill, plan: Plan, scenario: ScenarioPlan, services: Mapping[str, Service],
           ctx: ProcedureContext) -> Fault:
    spec = scenario.fault
    assert spec is not None
    target = services[spec.service]
    match spec.action:
        case FaultAction.KILL:
            return Kill(target)
        case FaultAction.FREEZE:
            return Freeze(target)
        case FaultAction.LOSE_SERVER:
            return LoseData(target)
        case _:
            assert spec.procedure is not None
            return ProcedureFault(target, plan.procedures[spec.procedure], ctx)


@contextmanager
def _background(drill: Drill, scenario: ScenarioPlan, env: Mapping[str, str]) -> Iterator[None]:
    """The team's locustfile beside drills' load, for as long as the load runs."""
    spec = scenario.workload.background
    if spec is None:
        yield
        return
    host = expand(spec.host, env, "workload.background.host") if spec.host else None
    load = Background(spec, host, drill.files.logs)
    name = f"background load: {spec.locustfile.name}, {spec.users} users"
    with drill.timeline.step(name, Category.SETUP, locustfile=str(spec.locustfile),
                             host=host) as extra:
        load.start()
        try:
            yield
        finally:
            try:
                extra.update(load.stop())
            except DrillError as exc:  # on the record; never hides the drill's own error
                extra["error"] = str(exc)
                drill.timeline.record(EventKind.ERROR, "background load failed",
                                      error=str(exc))


def _shown(text: str, env: Mapping[str, str]) -> str:
    """A check's description with its ``${VAR}`` as they were at run time."""
    try:
        return expand(text, env, "check")
    except DrillError:
        return text


def _monitor(detect: DetectSpec, services: Mapping[str, Service], ctx: ProcedureContext,
             ledger: str, env: Mapping[str, str]) -> Callable[[], str | None] | None:
    """The plan's monitor as a poll: None while it passes, else what it saw."""
    check = detect.monitor
    if check is None:
        return None
    if check.url is not None:
        check = replace(check, url=ctx.fill(check.url, "detect.monitor"))
    spec = check

    def poll() -> str | None:
        verdict, detail, _ = run_check(spec, services, ledger, env)
        return None if verdict == Verdict.PASS else f"{verdict}: {detail}"

    return poll


def run_plan_scenario(drill: Drill) -> None:
    """Run the drill's scenario as its plan spells it out."""
    plan, scenario = drill.plan, drill.scenario
    assert plan.stack is not None and scenario.fault is not None and scenario.ledger
    refuse_blocking(plan, scenario)
    stack = bring_up(drill, plan.stack)
    services = {s.name: s for s in stack}
    own = stack.runtime if isinstance(stack.runtime, OwnComposeRuntime) else None
    env = own.env if own else dict(os.environ)
    ctx = ProcedureContext(
        run_dir=drill.files.root, logs_dir=drill.files.logs,
        services={name: _access(s) for name, s in services.items()},
        project=own.project if own else None,
        # the team's files and drills' override (its labels): a script's `docker compose up`
        # recreates containers as drills made them, never unlabelled ones
        compose_files=(*plan.stack.compose_files, own.run_file) if own else (),
        path_first=_path_first(stack), base_env=env,
        workdir=getattr(stack.runtime, "workdir", None),
    )
    for name in plan.stack.setup:
        drill.setup_step(RunProcedure(plan.procedures[name], ctx))
    # in the runtime's own working directory: it goes with the stack, and `drill clean`
    # finds it (with the owner record) after a crash
    workdir = getattr(stack.runtime, "workdir", None)
    backups_root = (Path(workdir) / "team-backups" if workdir is not None else
                    Path(tempfile.mkdtemp(prefix=f"drills-{drill.run_id}-backups-")))
    backups_root.mkdir(mode=0o700, exist_ok=True)
    try:
        _drill(drill, plan, scenario, stack, services, ctx, backups_root, env)
    finally:
        shutil.rmtree(backups_root, ignore_errors=True)


def _drill(drill: Drill, plan: Plan, scenario: ScenarioPlan, stack: Stack,
           members: Mapping[str, Service], ctx: ProcedureContext, backups_root: Path,
           env: Mapping[str, str]) -> None:
    assert plan.stack is not None and scenario.fault is not None and scenario.ledger
    replicated = failover_plan.groups(plan.stack, members)
    # the clients of a primary with replicas follow a promotion: the load, the probe, the
    # read-back and the plan's checks on it reach whichever member accepts writes
    services: Mapping[str, Service] = {**members, **replicated}
    ledger = services[plan.stack.primary_of(scenario.ledger)]
    failover = failover_plan.FailoverSteps(plan.stack, members, replicated,
                                           scenario.fault.service)
    with drill.load(ledger, health=_health(stack, plan.stack, ctx)), \
            _background(drill, scenario, env):
        if replicated:
            drill.watch_replication(*failover_plan.members(replicated))
        drill.warm_up()
        due: float | None = None
        for job_name in restored_jobs(plan, scenario):
            job = plan.backups[job_name]
            assert job.procedure is not None  # built-in methods: refused by refuse_blocking
            method = ProcedureBackup(members[job.service], job,
                                     plan.procedures[job.procedure], ctx, backups_root)
            # verify: restore judges the rows of tables that did not change during the backup
            before = tables_now(members[job.service]) if job.rehearse else None
            started = time.monotonic()
            drill.backup(method)
            if job.rehearse is not None:  # restored into a scratch server, before the fault
                rehearse(drill, plan, job, ctx, env, before)
            # the compressed schedule: the next backup would be due this long after the start
            due = max(due or 0.0, started + job.compressed_to_s)
        if due is not None and due > time.monotonic():
            drill.wait(due - time.monotonic(), "until the next backup would be due")
        fault = _fault(drill, plan, scenario, members, ctx)
        with drill.fault(fault):
            if scenario.fault.action is FaultAction.FREEZE:
                assert scenario.fault.for_s is not None
                drill.wait(scenario.fault.for_s, "frozen")
        detect = scenario.detect
        monitor = _monitor(detect, services, ctx, scenario.ledger, env) if detect else None
        if detect is not None and detect.monitor is not None and monitor is not None:
            drill.detect_by(monitor, _shown(detect.monitor.describe(), env), detect.every_s)
        elif detect is not None and detect.manual is not None:
            drill.detect_manual(detect.manual, float(detect.takes_s or 0.0))
        else:
            drill.detect()
        for step in scenario.recovery:
            phase = step.phase.value
            match step.action:
                case StepAction.MANUAL:
                    drill.manual(step.target, float(step.takes_s or 0.0), phase)
                case StepAction.RESTART:
                    drill.recover(Restart(members[step.target]), phase)
                case StepAction.PROVISION:
                    drill.recover(Provision(members[step.target]), phase)
                case StepAction.PROMOTE | StepAction.REPOINT | StepAction.FENCE | \
                        StepAction.REJOIN:
                    drill.recover(failover.step(step), phase)
                case StepAction.PROCEDURE:
                    drill.recover(RunProcedure(plan.procedures[step.target], ctx), phase)
        if detect is not None and detect.monitor is not None and monitor is not None:
            drill.verify_by(monitor, _shown(detect.monitor.describe(), env), detect.every_s)
        drill.wait_for_service()
        for i, check in enumerate(scenario.checks):
            if check.url is not None:
                check = replace(check, url=ctx.fill(check.url, f"check {i + 1}"))
            verdict, detail, value = run_check(check, services, scenario.ledger, env)
            if verdict is None:
                continue  # the ledger: judged by the loss rows, after the read-back
            drill.record_check(f"check {i + 1}: {_shown(check.describe(), env)}",
                               str(verdict), detail,
                               value=value if isinstance(value, int | float) else None,
                               check=check.to_dict())
        drill.hold()

