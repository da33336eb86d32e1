"""What ``drill check`` prints: each scenario's steps in order, what it creates and touches.

Plain text from the plan alone: nothing is started, no server is asked anything.
Addresses are shown with their ``${VAR}`` and ``${VAR:-default}`` filled from the
environment ``drill check`` runs in, as ``drill run`` would fill them, and a line says which
variables are not set (their defaults used, or the run would stop).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from drills import kinds
from drills.catalogue import CATALOGUE
from drills.plan.contradictions import procedures_of, restored_jobs
from drills.plan.interpolate import preview
from drills.plan.model import Plan, ScenarioPlan
from drills.plan.procedure_spec import Procedure
from drills.plan.scenario_spec import Source
from drills.plan.spans import span
from drills.plan.stack_spec import HealthCheck, StackSpec
from drills.stack.storage.needs import NEEDS, unavailable


def _shown_argv(procedure: Procedure) -> str:
    return " ".join(procedure.argv)


class Shown:
    """Text as ``drill run`` would read it in ``env``; what it found about the variables."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = os.environ if env is None else env
        self.notes: list[str] = []

    def __call__(self, text: str) -> str:
        shown, notes = preview(text, self.env)
        self.notes += [n for n in notes if n not in self.notes]
        return shown

    def health(self, check: HealthCheck) -> str:
        if check.url is not None:
            return replace(check, url=self(check.url)).describe()
        return replace(check, command=tuple(self(a) for a in check.command)).describe()

    def lines(self) -> list[str]:
        """The line on the variables, if any was unset (or empty with ``:-``)."""
        return [f"  environment: {'; '.join(self.notes)}"] if self.notes else []


def stack_lines(stack: StackSpec | None, env: Mapping[str, str] | None = None) -> list[str]:
    """The stack, its addresses filled from ``env`` (default: this process's environment)."""
    shown = Shown(env)
    return _stack_lines(stack, shown) + shown.lines()


def _stack_lines(stack: StackSpec | None, shown: Shown) -> list[str]:
    if stack is None:
        return ["stack: none (only built-in or Python scenarios, on drills' own servers)"]
    lines = []
    if stack.own:
        files = ", ".join(str(f) for f in stack.compose_files)
        lines.append(f"stack: your compose project ({files}), brought up by drills as its own "
                     "project drills-<run id>-...; removed with its volumes at the end")
        lines.append("  refused before it starts: a service already answering on a `reach` "
                     "port (a stack drills did not create), container_name, external or "
                     "explicitly named volumes, writable bind mounts, and host access "
                     "(privileged, host namespaces, cap_add, security_opt, devices, "
                     "volumes_from, network_mode container:, host paths and secret files "
                     "outside the project, the engine's socket) unless stack.allow permits it")
        if stack.allow:
            lines.append("  the plan allows: " + "; ".join(
                f"{svc}: {', '.join(names)}" for svc, names in stack.allow.items()))
    else:
        lines.append("stack: drills' own servers (local processes, or containers of its own "
                     "compose project)")
    if stack.setup:
        lines.append(f"  once up, runs your setup procedures in order: {', '.join(stack.setup)}")
    for svc in stack.services.values():
        where = ""
        if svc.reach is not None:
            where = (f" at {shown(svc.reach.url)}" if svc.reach.url else
                     f" at {shown(str(svc.reach.host))}:{shown(str(svc.reach.port))}")
        health = f"; health: {shown.health(svc.health)}" if svc.health else ""
        known = kinds.find(svc.kind)
        if not stack.own and (known is None or not known.plan_builtin):
            health += (f" -- drills cannot start a {svc.kind} server itself: every scenario "
                       "of this stack could not verify (name your compose file in "
                       "stack.compose)")
        elif known is None:
            health += " (reached, faulted and health-checked; no ledger or query)"
        role = ""
        if svc.replica_of is not None:
            role = f", streaming replica of {svc.replica_of}"
        elif stack.replicas_of(svc.name):
            sync = svc.replication.get("synchronous_standby_names")
            role = (f", primary of {', '.join(stack.replicas_of(svc.name))} "
                    + (f"(synchronous: {sync}); clients follow a promotion" if sync else
                       "(asynchronous); clients follow a promotion"))
        lines.append(f"  {svc.name}: {svc.kind}{role}{where}{health}")
        if stack.own is False and known is not None and known.stand_in:
            lines.append(f"    server: {known.stand_in}")
    return lines


def scenario_lines(plan: Plan, scenario: ScenarioPlan, shown: Shown | None = None
                   ) -> list[str]:
    lines = [f"scenario {scenario.name}" + (f": {scenario.description.strip()}"
                                            if scenario.description.strip() else "")]
    if scenario.source is Source.BUILTIN:
        info = CATALOGUE[scenario.catalogue_name]
        lines.append(f"  built-in drill {info.name} on drills' own {info.kind} servers: "
                     f"{info.summary}")
        stand_in = kinds.get(info.kind).stand_in
        if stand_in:
            lines.append(f"  server: {stand_in}")
    elif scenario.source is Source.CODE:
        lines.append(f"  your Python drill marked @pytest.mark.drill({scenario.name!r}) "
                     "(drill run --scenarios DIR)")
    else:
        lines += _steps(plan, scenario, shown or Shown())
    control = CATALOGUE[scenario.catalogue_name].negative_control \
        if scenario.source is Source.BUILTIN else ""
    need = CATALOGUE[scenario.catalogue_name].storage_needs \
        if scenario.source is Source.BUILTIN else ""
    missing = unavailable(need) if need else None
    if missing:
        lines.append(f"  cannot run on this machine: its fault needs {NEEDS[need]}, and "
                     f"{missing}; it will end \"could not verify\"")
    if control:
        lines.append(f"  negative control, no targets: it passes only when the fault shows its "
                     f"damage ({control}), and fails when it does none")
    else:
        lines.append(f"  targets: {_targets(scenario)}")
        lines.append(f"  loss: {_loss(scenario)}")
    restores = bool(restored_jobs(plan, scenario)) or (
        scenario.source is Source.BUILTIN
        and bool(CATALOGUE[scenario.catalogue_name].rpo_bound))
    warning = "" if restores else censoring_warning(scenario)
    if warning:
        lines.append(f"  warning: {warning}")
    return lines


def _loss(scenario: ScenarioPlan) -> str:
    """How the drill will judge lost acknowledged writes (docs/measurement.md rule 12)."""
    t = scenario.targets
    before = "judged by the targets above" if t.states_loss else \
        "none acknowledged before the fault may be lost (no rpo or max_lost_writes stated)"
    after = (f"those acknowledged after the fault began may be lost only within "
             f"{span(t.discard_window_s)} of it" if t.discard_window_s is not None else
             "none acknowledged after the fault began may be lost (no discard_window)")
    return f"{before}; {after}"


def censoring_warning(scenario: ScenarioPlan) -> str:
    """A warning when the RPO target is longer than the load before the fault.

    A drill that loses everything cannot confirm such a target: the window is then only a
    lower bound (docs/measurement.md rule 13). Not said of a restore: its loss starts at the
    backup's consistency point, after the load began.
    """
    rpo = scenario.targets.rpo_s
    gap = float(scenario.params.get("gap_s", 0.0))
    before = scenario.workload.warmup_s + gap
    if rpo is None or rpo <= before:
        return ""
    load = f"warmup {span(scenario.workload.warmup_s)}" + (f" + gap {span(gap)}" if gap else "")
    return (f"RPO {span(rpo)} is longer than the load planned before the fault (about "
            f"{span(before)}: {load}): if the loss reaches back to the drill's first write, "
            f"the window is only known to be at least that, and the RPO row is 'could not "
            f"verify'; a warmup of {span(rpo)} or more lets the drill judge it")


def _steps(plan: Plan, scenario: ScenarioPlan, shown: Shown) -> list[str]:
    assert scenario.fault is not None and plan.stack is not None
    ledger = scenario.ledger or "?"
    place = "?"
    if ledger in plan.stack.services:
        found = kinds.find(plan.stack.services[ledger].kind)
        place = str(found.ledger) if found is not None else "?"
    w = scenario.workload
    steps = [
        f"bring up the stack; create drills' write ledger in {ledger} "
        f"({place})",
        f"load: {w.users} users writing to the ledger"
        + (f" at {w.rate:g}/s" if w.rate else " as fast as acknowledged")
        + f", probe every {scenario.probe.interval_s * 1000:g} ms; warm-up {w.warmup_s:g} s",
    ]
    if w.background is not None:
        steps.append(f"beside it, your locustfile {w.background.locustfile.name} with "
                     f"{w.background.users} users (background traffic, not measured)")
    for job_name in restored_jobs(plan, scenario):
        job = plan.backups.get(job_name)
        if job is None:
            steps.append(f"backup {job_name}: NO SUCH JOB")
            continue
        how = (f"built-in {job.method}" if job.method else
               f"procedure {job.procedure}: {_shown_argv(plan.procedures[str(job.procedure)])}")
        steps.append(f"backup {job.name} of {job.service} ({how}); real schedule every "
                     f"{span(job.every_s)}" + (f" at {job.at}" if job.at else "")
                     + f", compressed to {span(job.compressed_to_s)}: the fault comes "
                     f"{span(job.compressed_to_s)} after the backup started")
        if job.rehearse is not None:
            steps.append(f"rehearse the restore of {job.name} (verify: restore): procedure "
                         f"{job.rehearse} into a scratch PostgreSQL on this machine, then the "
                         f"plan's sql checks on {job.service} and the tables of the backup "
                         "there, timed; before the fault")
    steps.append(f"fault: {scenario.fault.describe()}")
    detect = scenario.detect
    steps.append(detect.describe() + " (phase detection)" if detect is not None else
                 f"detect: wait until the probe of {ledger} fails (phase detection)")
    for step in scenario.recovery:
        text = step.describe()
        if step.action.value == "procedure" and step.target in plan.procedures:
            proc = plan.procedures[step.target]
            text += (f": {_shown_argv(proc)} (cwd {proc.cwd}, timeout "
                     f"{span(proc.timeout_s)})")
        steps.append(f"recovery ({step.phase.value}): {text}")
    if detect is not None and detect.monitor is not None:
        steps.append("verify: poll the monitor until it passes again")
    steps.append(f"verify: wait until the probe of {ledger} passes again (phase "
                 "verification); RTO ends there")
    for check in scenario.checks:
        if check.url is not None:
            check = replace(check, url=shown(check.url))
        steps.append(f"check: {check.describe()}")
    steps.append(f"hold the load {w.hold_s:g} s, read the ledger back: lost, recovered, "
                 "unexpected writes and the RPO; tear everything down")
    lines = [f"  {i}. {text}" for i, text in enumerate(steps, 1)]
    commands = procedures_of(plan, scenario)
    if commands:
        lines.append("  runs your commands (argv, no shell unless written; output kept in "
                     f"the scenario's logs): {', '.join(commands)}")
    return lines


def _targets(scenario: ScenarioPlan) -> str:
    t = scenario.targets
    parts = []
    if t.rto_s is not None:
        parts.append(f"RTO {span(t.rto_s)}")
    if t.rpo_s is not None:
        parts.append(f"RPO {span(t.rpo_s)}")
    if t.max_lost_writes is not None:
        parts.append(f"lost writes <= {t.max_lost_writes}")
    if t.availability is not None:
        parts.append(f"availability >= {t.availability:.4%}")
    if t.p99_latency_s is not None:
        parts.append(f"p99 <= {t.p99_latency_s * 1000:g} ms")
    parts += [f"{p} <= {span(s)}" for p, s in t.phases.items()]
    manual = scenario.stated_manual_s()
    if manual:
        parts.append(f"(manual steps state {span(manual)}, added to the measured RTO)")
    return ", ".join(parts) or "none"


def describe(plan: Plan, only: tuple[str, ...] = (),
             env: Mapping[str, str] | None = None, host: Sequence[str] = ()) -> list[str]:
    """The whole preview, line by line; ``${VAR}`` filled from ``env`` (default: ours).

    ``host``: what the compose files' host access is (drill check reads them), shown with
    the stack.
    """
    shown = Shown(env)
    lines = [f"plan {plan.name} (version {plan.version}, {Path(plan.path)})"]
    if plan.drill_every_s:
        lines.append(f"drilled every {span(plan.drill_every_s)}")
    stack = [*_stack_lines(plan.stack, shown), *host] if plan.version >= 2 else []
    scenarios: list[str] = []
    for name, scenario in plan.scenarios.items():
        if not only or name in only:
            scenarios += scenario_lines(plan, scenario, shown)
    return lines + stack + shown.lines() + scenarios  # the variables of every line shown
