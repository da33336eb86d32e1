"""Plan format version 2: the team's stack, backups, procedures, scenarios and targets.

    version: 2
    name: ...
    drill_every: 90d               # the plan's cadence; the report says when one is overdue
    stack:
      compose: [compose.yaml]      # the team's compose file(s); leave out for drills' servers
      services:
        db: {kind: postgres, reach: {host, port, user, database, password: {env: NAME}},
             health: {command: [pg_isready, ...]}}
        api: {kind: http, reach: {url: ...}, health: {http: {url: ..., status: 200}}}
    backups:
      daily-dump: {service: db, procedure: backup-db, every: 24h, at: "03:00",
                   retention: 30d, compressed_to: 10s}
    procedures:
      restore-db: {run: [scripts/restore-db.sh, "{latest:daily-dump}"], timeout: 10m}
    targets:                       # defaults per service, for scenarios whose fault hits it
      db: {rto: 30m, rpo: 6h}
    scenarios:
      server-loss:
        fault: {lose_server: db}
        recovery: [{provision: db}, {procedure: restore-db},
                   {manual: update DNS, takes: 5m, phase: decision}]
        checks: [{ledger: db}, {http: "http://127.0.0.1:8080/health"}]
      kill-pg: {builtin: postgres-kill, targets: {rto: 30s}}
      my-own-drill: {code: true, targets: {rto: 1m}}

Only what is invalid in itself is refused here (exit 2 of ``drill check``). What is valid
but cannot hold together (a restore from a backup job that does not exist, an RPO shorter
than the backup schedule allows) is for drills.plan.contradictions.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from drills import kinds
from drills.catalogue import CATALOGUE
from drills.errors import PlanError
from drills.plan.contradictions import restored_jobs
from drills.plan.interpolate import variables
from drills.plan.model import (
    BackgroundLoad,
    BackupSchedule,
    Plan,
    ProbeSpec,
    ScenarioPlan,
    Targets,
    WorkloadSpec,
)
from drills.plan.procedure_spec import Procedure
from drills.plan.reader import EVIDENCE_KEYS, MAX_DATASET, TARGET_KEYS, shown
from drills.plan.reader_stack import StackSectionsReader
from drills.plan.scenario_spec import (
    Bound,
    CheckKind,
    CheckSpec,
    DetectSpec,
    FaultAction,
    FaultSpec,
    Phase,
    Source,
    StepAction,
    StepSpec,
)
from drills.plan.stack_spec import StackSpec

#: the recovery steps of a failover, on the services of a replication group (replica_of)
_FAILOVER = (StepAction.PROMOTE, StepAction.REPOINT, StepAction.FENCE, StepAction.REJOIN)
_SCENARIO_KEYS = ("description", "builtin", "code", "fault", "recovery", "checks", "ledger",
                  "detect",
                  "targets", "workload", "probe", "recovery_timeout", "params", "dataset",
                  "backup", *EVIDENCE_KEYS)
#: keys a built-in scenario reads as version 1 does
_BUILTIN_KEYS = ("targets", "workload", "probe", "recovery_timeout", "params", "dataset",
                 "backup")


class PlanV2Reader(StackSectionsReader):
    """Validates a version 2 plan; shares every value check with version 1."""

    def plan_v2(self, raw: Any, sha256: str) -> Plan:
        top = self.mapping(raw, "", ("version", "name", "description", "drill_every",
                                     "defaults", "stack", "backups", "procedures", "targets",
                                     "scenarios"))
        name = self.text(top.get("name", self.path.stem), "name")
        description = self.text(top.get("description", ""), "description", multiline=True)
        drill_every = (self.duration(top["drill_every"], "drill_every", positive=True)
                       if "drill_every" in top else None)
        defaults = self.mapping(
            top.get("defaults"), "defaults",
            ("workload", "probe", "recovery_timeout", "dataset", "regression")
        )
        stack = self.stack(top.get("stack"))
        procedures = self.procedures(top.get("procedures"))
        backups = self.backups(top.get("backups"), stack, procedures)
        service_targets = self.service_targets(top.get("targets"), stack)
        raw_scenarios = top.get("scenarios")
        if not isinstance(raw_scenarios, dict) or not raw_scenarios:
            raise self.fail("scenarios", "must map at least one scenario name to what it does")
        workload = self.workload(defaults.get("workload"), "defaults.workload", WorkloadSpec())
        probe = self.probe(defaults.get("probe"), "defaults.probe", ProbeSpec())
        timeout = self.duration(defaults.get("recovery_timeout", 60),
                                "defaults.recovery_timeout", positive=True)
        dataset = (self.size(defaults["dataset"], "defaults.dataset", MAX_DATASET)
                   if "dataset" in defaults else 0)
        for n, raw in raw_scenarios.items():
            if n in CATALOGUE and isinstance(raw, dict) and ("code" in raw or "fault" in raw):
                raise self.fail(f"scenarios.{n}", "is the name of a built-in drill; call your "
                                "own scenario something else")
        scenarios = self.with_evidence({
            n: self.scenario_v2(n, s, stack, procedures, service_targets, workload=workload,
                                probe=probe, timeout=timeout, dataset=dataset)
            for n, s in raw_scenarios.items()
        }, raw_scenarios, defaults)
        plan = Plan(self.path, sha256, name, scenarios, description, version=2, stack=stack,
                    backups=backups, procedures=procedures, drill_every_s=drill_every)
        for n, sc in scenarios.items():  # the real schedule behind a restore: projections
            every = [backups[j].every_s for j in restored_jobs(plan, sc) if j in backups]
            if sc.source is Source.STEPS and every:
                scenarios[n] = replace(sc, backup=BackupSchedule(every_s=max(every)))
        self.secrets_stay_out(stack, scenarios)
        seen: dict[str, str] = {}
        for n, sc in scenarios.items():
            if sc.source is Source.BUILTIN:
                if sc.catalogue_name in seen:
                    raise self.fail(f"scenarios.{n}.builtin", f"{sc.catalogue_name} is already "
                                    f"run by scenario {seen[sc.catalogue_name]}: one scenario "
                                    "per built-in drill")
                seen[sc.catalogue_name] = n
        return Plan(self.path, sha256, name, scenarios, description, version=2, stack=stack,
                    backups=backups, procedures=procedures, drill_every_s=drill_every)

    def secrets_stay_out(self, stack: StackSpec | None,
                         scenarios: dict[str, ScenarioPlan]) -> None:
        """A password's variable is never filled into a command's arguments or a URL.

        ``${NAME}``, where a service's ``reach.password`` is ``{env: NAME}``: a health
        command's arguments and URLs are filled from the environment when the drill runs,
        then shown and saved (``{password:SVC}`` is refused there by the reader already).
        """
        if stack is None:
            return
        names = {s.reach.password.env for s in stack.services.values()
                 if s.reach and s.reach.password and s.reach.password.env}
        places: list[tuple[str, str]] = []
        for n, svc in stack.services.items():
            if svc.health is not None:
                places += [(f"stack.services.{n}.health.command[{i}]", a)
                           for i, a in enumerate(svc.health.command)]
                places += [(f"stack.services.{n}.health.http", svc.health.url or "")]
        for n, sc in scenarios.items():
            places += [(f"scenarios.{n}.checks[{i}]", c.url or "")
                       for i, c in enumerate(sc.checks)]
            if sc.detect is not None and sc.detect.monitor is not None:
                places.append((f"scenarios.{n}.detect.monitor", sc.detect.monitor.url or ""))
        for key, text in places:
            for var in variables(text):
                if var in names:
                    raise self.fail(key, f"${{{var}}} is a service's password (reach.password: "
                                    f"{{env: {var}}}): filled here, it would be in a command's "
                                    "arguments or a URL, which any user of the machine can "
                                    "read and the run's records keep; a procedure gets it in "
                                    "its `env` ({password:SVC})")

    def workload(self, raw: Any, key: str, base: WorkloadSpec) -> WorkloadSpec:
        """Version 1's workload, plus ``background``: the team's own locustfile."""
        entry = dict(raw) if isinstance(raw, dict) else raw
        background = entry.pop("background", None) if isinstance(entry, dict) else None
        spec = super().workload(entry, key, base)
        if background is None:
            return spec
        where = f"{key}.background"
        found = self.mapping(background, where, ("locustfile", "users", "host"))
        if "locustfile" not in found:
            raise self.fail(f"{where}.locustfile", "missing: your locustfile, relative to "
                            "the plan")
        path = self.relative_path(found["locustfile"], f"{where}.locustfile")
        if not path.is_file():
            raise self.fail(f"{where}.locustfile", f"{shown(found['locustfile'])}: no such "
                            f"file (looked for {path})")
        users = int(self.number(found.get("users", 4), f"{where}.users", integer=True,
                                minimum=1, maximum=10_000))
        host = self.url(found["host"], f"{where}.host") if "host" in found else None
        return replace(spec, background=BackgroundLoad(path, users, host))

    # -- targets -------------------------------------------------------------------------

    def service_targets(self, raw: Any, stack: StackSpec | None) -> dict[str, dict[str, Any]]:
        """Raw per-service target defaults (validated when a scenario uses them)."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail("targets", "must map service names to their targets")
        out = {}
        for service, targets in raw.items():
            self.service_ref(service, f"targets.{shown(service)}", stack)
            self.targets_v2(targets, f"targets.{service}")  # invalid values fail here
            out[service] = dict(targets)
        return out

    def targets_v2(self, raw: Any, key: str) -> Targets:
        entry = self.mapping(raw, key, (*TARGET_KEYS, "phases"))
        phases_raw = entry.get("phases")
        base = {k: v for k, v in entry.items() if k != "phases"}
        targets = (self.targets(base, key) if any(v is not None for v in base.values())
                   else Targets())
        if phases_raw is None:
            if not base:
                raise self.fail(key, "empty: set at least one of "
                                f"{', '.join((*TARGET_KEYS, 'phases'))}")
            return targets
        phases_entry = self.mapping(phases_raw, f"{key}.phases", tuple(p.value for p in Phase))
        phases = {p: self.duration(v, f"{key}.phases.{p}", positive=True)
                  for p, v in phases_entry.items()}
        return replace(targets, phases=phases)

    # -- scenarios -----------------------------------------------------------------------

    def scenario_v2(self, name: str, raw: Any, stack: StackSpec | None,
                    procedures: dict[str, Procedure], service_targets: dict[str, dict[str, Any]],
                    *, workload: WorkloadSpec, probe: ProbeSpec, timeout: float,
                    dataset: int) -> ScenarioPlan:
        self.item_name(name, f"scenarios.{shown(name)}")
        key = f"scenarios.{name}"
        entry = self.mapping(raw, key, _SCENARIO_KEYS)
        description = self.text(entry.get("description", ""), f"{key}.description",
                                multiline=True)
        steps = [k for k in ("fault", "recovery", "checks", "ledger", "detect") if k in entry]
        if "code" in entry:
            if entry["code"] is not True:
                raise self.fail(f"{key}.code", "must be true: the scenario is your Python drill "
                                f"marked @pytest.mark.drill({name!r})")
            for other in ("builtin", *steps, "params"):
                if other in entry:
                    raise self.fail(f"{key}.{other}", "a `code: true` scenario is your Python "
                                    "drill: its steps are in the code, not the plan")
            base = {k: v for k, v in entry.items() if k in _BUILTIN_KEYS and k != "params"}
            plan = self.code_scenario(name, base, key, workload, probe, timeout, dataset)
            return replace(plan, source=Source.CODE, description=description)
        if "builtin" in entry or ("fault" not in entry and name in CATALOGUE):
            builtin = entry.get("builtin", name)
            if builtin not in CATALOGUE:
                raise self.fail(f"{key}.builtin", f"{shown(builtin)}: not a built-in drill; "
                                f"known: {', '.join(CATALOGUE)}")
            for other in steps:
                raise self.fail(f"{key}.{other}", f"a built-in scenario ({builtin}) has its own "
                                "steps; for your own, leave out `builtin` and write fault, "
                                "recovery and checks")
            base = {k: v for k, v in entry.items() if k in _BUILTIN_KEYS}
            plan = self.scenario(builtin, base, workload, probe, timeout, dataset, key=key)
            return replace(plan, name=name, builtin=builtin, description=description)
        if "fault" not in entry:
            raise self.fail(key, "says nothing to do: give a fault (with recovery and checks), "
                            f"`builtin: NAME` (one of {', '.join(CATALOGUE)}), or `code: true` "
                            "for your own Python drill")
        for other in ("params", "backup"):
            if other in entry:
                raise self.fail(f"{key}.{other}", "only built-in scenarios take "
                                f"`{other}`; your own scenario takes backups from `backups`")
        fault = self.fault(entry["fault"], f"{key}.fault", stack, procedures)
        recovery = self.recovery(entry.get("recovery"), f"{key}.recovery", stack)
        checks = self.checks(entry.get("checks"), f"{key}.checks", stack)
        detect = self.detect(entry.get("detect"), f"{key}.detect", stack)
        ledger = self.ledger(entry.get("ledger"), f"{key}.ledger", stack, fault, checks)
        inherited = service_targets.get(fault.service, {})
        own_targets = entry.get("targets") or {}
        if not isinstance(own_targets, dict):
            raise self.fail(f"{key}.targets", "must be a mapping of targets")
        merged = {**inherited, **own_targets}
        if not merged:
            raise self.fail(f"{key}.targets", "missing: a scenario without targets is a drill "
                            "that cannot fail; set them here, or under `targets` for service "
                            f"{fault.service}")
        return ScenarioPlan(
            name=name,
            targets=self.targets_v2(merged, f"{key}.targets"),
            **self.run_settings(entry, key, workload, probe, timeout, dataset),
            source=Source.STEPS, description=description, fault=fault,
            recovery=recovery, checks=checks, ledger=ledger, detect=detect,
        )

    def code_scenario(self, name: str, entry: dict[str, Any], key: str,
                      workload: WorkloadSpec, probe: ProbeSpec, timeout: float,
                      dataset: int) -> ScenarioPlan:
        """A code scenario: targets and load settings, no catalogue entry."""
        if "targets" not in entry:
            raise self.fail(f"{key}.targets", "missing: a scenario without targets is a drill "
                            f"that cannot fail; set at least one of {', '.join(TARGET_KEYS)}")
        return ScenarioPlan(
            name=name,
            targets=self.targets_v2(entry["targets"], f"{key}.targets"),
            **self.run_settings(entry, key, workload, probe, timeout, dataset),
            backup=self.backup(entry.get("backup"), f"{key}.backup"),
        )

    def single(self, raw: Any, key: str, actions: tuple[str, ...],
               extra: tuple[str, ...]) -> tuple[str, Any, dict[str, Any]]:
        """A mapping with exactly one action key, plus optional extra keys."""
        entry = self.mapping(raw, key, (*actions, *extra))
        named = [a for a in actions if a in entry]
        if len(named) != 1:
            raise self.fail(key, f"give exactly one of {', '.join(actions)}"
                            + (f" (got {', '.join(named)})" if named else ""))
        return named[0], entry[named[0]], entry

    def fault(self, raw: Any, key: str, stack: StackSpec | None,
              procedures: dict[str, Procedure]) -> FaultSpec:
        action, value, entry = self.single(raw, key, tuple(a.value for a in FaultAction),
                                           ("for", "service"))
        kind = FaultAction(action)
        if kind is FaultAction.PROCEDURE:
            if value not in procedures:
                raise self.fail(f"{key}.procedure", f"{shown(value)} is not in `procedures`; "
                                f"it has: {', '.join(procedures) or 'none'}")
            if "service" not in entry:
                raise self.fail(f"{key}.service", "missing: the service your chaos command "
                                "hits (its targets and the probe follow it)")
            service = self.service_ref(entry["service"], f"{key}.service", stack)
            return FaultSpec(kind, service, procedure=value)
        if "service" in entry:
            raise self.fail(f"{key}.service", f"`{action}` names its service itself: "
                            f"{{{action}: SERVICE}}")
        service = self.service_ref(value, f"{key}.{action}", stack)
        for_s = None
        if kind is FaultAction.FREEZE:
            if "for" not in entry:
                raise self.fail(f"{key}.for", "missing: how long the service stays frozen")
            for_s = self.duration(entry["for"], f"{key}.for", positive=True)
        elif "for" in entry:
            raise self.fail(f"{key}.for", f"only freeze takes `for`; `{action}` lasts until the "
                            "recovery brings the service back")
        return FaultSpec(kind, service, for_s=for_s)

    def recovery(self, raw: Any, key: str, stack: StackSpec | None) -> tuple[StepSpec, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.fail(key, "must be a list of steps, in order")
        steps = []
        for i, item in enumerate(raw):
            where = f"{key}[{i}]"
            if isinstance(item, dict) and "restore" in item:
                raise self.no_restore_step(item["restore"], f"{where}.restore")
            action, value, entry = self.single(item, where, tuple(a.value for a in StepAction),
                                               ("phase", "takes"))
            step = StepAction(action)
            # detection (fault to first failure) and verification (last step to first good
            # probe) are measured around the steps; a step is a decision or an execution
            phase = Phase(self.choice(entry.get("phase", "execution"), f"{where}.phase",
                                      (Phase.DECISION.value, Phase.EXECUTION.value)))
            takes = None
            if step is StepAction.MANUAL:
                target = self.text(value, f"{where}.manual")
                if "takes" not in entry:
                    raise self.fail(f"{where}.takes", "missing: the time the plan states for "
                                    "this step a person does (it counts in the RTO, marked not "
                                    "measured)")
                takes = self.duration(entry["takes"], f"{where}.takes")
            else:
                if "takes" in entry:
                    raise self.fail(f"{where}.takes", "only a manual step states its "
                                    "duration; drills measures the others")
                if step in (StepAction.RESTART, StepAction.PROVISION):
                    target = self.service_ref(value, f"{where}.{action}", stack)
                elif step in _FAILOVER:
                    target, among = self.failover_step(step, value, f"{where}.{action}", stack)
                    steps.append(StepSpec(step, target, phase, takes, among))
                    continue
                else:  # a procedure or backup job: a name checked by drill check
                    target = self.item_name(value, f"{where}.{action}")
            steps.append(StepSpec(step, target, phase, takes))
        return tuple(steps)

    def no_restore_step(self, raw: Any, key: str) -> PlanError:
        """``{restore: JOB}``: there is no such step; a plan's own procedure restores a job."""
        try:
            job = self.item_name(raw, key)
        except PlanError:
            job = "JOB"
        return self.fail(key, "a plan's own scenario has no built-in restore step: drills "
                         "restores its built-in backups only inside its built-in scenarios "
                         f"(builtin: postgres-restore-dump, ...); restore job {job} with "
                         "your own procedure: under `procedures`, e.g. restore-db: {run: "
                         f"[scripts/restore.sh, '{{latest:{job}}}']}}, and the step "
                         "{procedure: restore-db} here")

    def failover_step(self, step: StepAction, raw: Any, key: str, stack: StackSpec | None
                      ) -> tuple[str, tuple[str, ...]]:
        """The service a failover step names, and a promotion's candidates."""
        if step is StepAction.PROMOTE:
            listed = raw if isinstance(raw, list) else [raw]
            if not listed:
                raise self.fail(key, "names no replica: give one, or a list of them (the most "
                                "advanced is promoted)")
            among = tuple(self.service_ref(r, f"{key}[{i}]" if isinstance(raw, list) else key,
                                           stack) for i, r in enumerate(listed))
            assert stack is not None
            for name in among:
                if stack.services[name].replica_of is None:
                    raise self.fail(key, f"{name} is not a replica (no replica_of under "
                                    "stack.services): only a replica can be promoted")
            if len({stack.services[n].replica_of for n in among}) > 1:
                raise self.fail(key, "lists replicas of different primaries; promote one "
                                "primary's replicas")
            return among[0], among if len(among) > 1 else ()
        name = self.service_ref(raw, key, stack)
        assert stack is not None
        spec = stack.services[name]
        if step is StepAction.REPOINT:
            if spec.replica_of is not None or not stack.replicas_of(name):
                raise self.fail(key, f"name the primary whose clients follow the failover "
                                f"(a service with replicas); {name} has none"
                                + (f" (it is a replica of {spec.replica_of})"
                                   if spec.replica_of else ""))
            return name, ()
        if spec.replica_of is None and not stack.replicas_of(name):
            raise self.fail(key, f"{name} has no replicas and is none: {step.value} is a step "
                            "of a failover between a primary and its replicas (replica_of)")
        if step is StepAction.REJOIN and stack.own:
            raise self.fail(key, "drills rewinds only its own servers; in your compose "
                            "project, rejoin the old primary with your own procedure "
                            "({procedure: NAME})")
        return name, ()

    def choice(self, raw: Any, key: str, allowed: tuple[str, ...]) -> str:
        if raw not in allowed:
            raise self.fail(key, f"{shown(raw)}: use one of {', '.join(allowed)}")
        return str(raw)

    def checks(self, raw: Any, key: str, stack: StackSpec | None) -> tuple[CheckSpec, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.fail(key, "must be a list of checks")
        out = []
        for i, item in enumerate(raw):
            where = f"{key}[{i}]"
            action, value, entry = self.single(
                item, where, tuple(c.value for c in CheckKind),
                ("service", "method", "status", "at_least", "at_most", "equals", "timeout"))
            kind = CheckKind(action)
            timeout = (self.duration(entry["timeout"], f"{where}.timeout", positive=True)
                       if "timeout" in entry else 10.0)
            if kind is CheckKind.LEDGER:
                self.no_keys(entry, where, ("service", "method", "status", "at_least",
                                            "at_most", "equals"), "ledger")
                service = self.service_ref(value, f"{where}.ledger", stack)
                out.append(CheckSpec(kind, service=service, timeout_s=timeout))
            elif kind is CheckKind.COMMAND:
                self.no_keys(entry, where, ("service", "method", "status", "at_least",
                                            "at_most", "equals"), "command")
                out.append(CheckSpec(kind, command=self.unfilled(
                    self.argv(value, f"{where}.command"), f"{where}.command"),
                    timeout_s=timeout))
            elif kind is CheckKind.HTTP:
                self.no_keys(entry, where, ("service", "at_least", "at_most", "equals"), "http")
                url, method, status = self.http_request(
                    {"url": value, **{k: entry[k] for k in ("method", "status") if k in entry}},
                    f"{where}")
                out.append(CheckSpec(kind, url=url, method=method, status=status,
                                     timeout_s=timeout))
            else:
                self.no_keys(entry, where, ("method", "status"), action)
                service = self.service_ref(entry.get("service"), f"{where}.service", stack)
                assert stack is not None
                target = stack.services[service].kind
                known = kinds.find(target)
                speaks = known.check_language if known is not None else None
                if speaks != kind.value:
                    raise self.fail(f"{where}.service", f"{service} is a {target} service; "
                                    f"it answers no {action} check")
                bound = Bound(**{k: self.number(entry[k], f"{where}.{k}", minimum=-1e18)
                                 for k in ("at_least", "at_most", "equals") if k in entry})
                if bound == Bound():
                    raise self.fail(where, "give the bound the answer must meet: at_least, "
                                    "at_most or equals")
                if kind is CheckKind.SQL:
                    query = self.text(value, f"{where}.sql", multiline=True)
                    out.append(CheckSpec(kind, service=service,
                                         query=self.unfilled((query,), f"{where}.sql",
                                                             indexed=False)[0],
                                         bound=bound, timeout_s=timeout))
                elif kind is CheckKind.MONGODB:
                    reach = stack.services[service].reach
                    out.append(CheckSpec(kind, service=service, query=self.mongodb_count(
                        value, f"{where}.mongodb", reach.database if reach else None),
                        bound=bound, timeout_s=timeout))
                else:
                    command = self.argv(value, f"{where}.redis")
                    out.append(CheckSpec(kind, service=service,
                                         command=self.unfilled(command, f"{where}.redis"),
                                         bound=bound, timeout_s=timeout))
        return tuple(out)

    def mongodb_count(self, raw: Any, key: str, default_database: str | None) -> str:
        """``{count: COLLECTION, filter: {...}, database: NAME}`` as the JSON the store runs.

        A count only reads; the filter is MongoDB's query language (``$gte``...), as plain
        YAML values.
        """
        entry = self.mapping(raw, key, ("count", "filter", "database"))
        if "count" not in entry:
            raise self.fail(f"{key}.count", "missing: the collection whose documents to count")
        database = (self.text(entry["database"], f"{key}.database") if "database" in entry
                    else default_database)
        if not database:
            raise self.fail(f"{key}.database", "missing: the database of the collection (or "
                            "give the service's reach a database)")
        found = entry.get("filter", {})
        if not isinstance(found, dict):
            raise self.fail(f"{key}.filter", "must be a mapping, as MongoDB's find() takes it")
        self.plain(found, f"{key}.filter")
        return json.dumps({"database": database,
                           "count": self.text(entry["count"], f"{key}.count"),
                           "filter": found}, sort_keys=True)

    def plain(self, value: Any, key: str) -> None:
        """Refuse anything but mappings, lists, text, numbers, booleans and null."""
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise self.fail(key, f"{shown(k)}: a key must be text")
                self.plain(v, f"{key}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.plain(v, f"{key}[{i}]")
        elif value is not None and not isinstance(value, str | int | float | bool):
            raise self.fail(key, f"{shown(value)}: not a value MongoDB's filter takes")

    def detect(self, raw: Any, key: str, stack: StackSpec | None) -> DetectSpec | None:
        """``detect: {monitor: CHECK, every: 1s}`` or ``detect: {manual: TEXT, takes: 30m}``."""
        if raw is None:
            return None
        entry = self.mapping(raw, key, ("monitor", "every", "manual", "takes"))
        if ("monitor" in entry) == ("manual" in entry):
            raise self.fail(key, "give one of monitor (a sql, redis or http check polled from "
                            "the fault on: the damage shows when it fails) or manual (what a "
                            "person notices, with takes: how long that takes)")
        if "manual" in entry:
            for k in ("every",):
                if k in entry:
                    raise self.fail(f"{key}.{k}", "a manual detection is not polled")
            if "takes" not in entry:
                raise self.fail(f"{key}.takes", "missing: how long until a person notices "
                                "(counted in the RTO's detection phase, stated, not measured)")
            return DetectSpec(manual=self.text(entry["manual"], f"{key}.manual"),
                              takes_s=self.duration(entry["takes"], f"{key}.takes"))
        if "takes" in entry:
            raise self.fail(f"{key}.takes", "a monitor's detection is measured, not stated")
        [monitor] = self.checks([entry["monitor"]], f"{key}.monitor", stack)
        if monitor.kind is CheckKind.LEDGER:
            raise self.fail(f"{key}.monitor", "the write ledger is read once, after recovery; "
                            "a monitor is a sql, redis, http or command check")
        every = (self.duration(entry["every"], f"{key}.every", positive=True)
                 if "every" in entry else 1.0)
        return DetectSpec(monitor=monitor, every_s=every)

    def no_keys(self, entry: dict[str, Any], key: str, keys: tuple[str, ...],
                action: str) -> None:
        for k in keys:
            if k in entry:
                raise self.fail(f"{key}.{k}", f"a {action} check takes no `{k}`")

    def ledger(self, raw: Any, key: str, stack: StackSpec | None, fault: FaultSpec,
               checks: tuple[CheckSpec, ...]) -> str:
        """The service the write ledger and probe use: named, or the obvious one."""
        assert stack is not None  # a fault names a service of it
        stores = [n for n, s in stack.services.items()
                  if (known := kinds.find(s.kind)) is not None and known.ledger is not None]
        if raw is not None:
            name = self.service_ref(raw, key, stack)
            if name not in stores:
                raise self.fail(key, f"{name} is a {stack.services[name].kind} service, which "
                                f"cannot hold drills' write ledger; one of {', '.join(stores)}")
            return name
        for check in checks:
            if check.kind is CheckKind.LEDGER and check.service:
                return check.service
        if fault.service in stores:
            return fault.service
        if len(stores) == 1:
            return stores[0]
        which = ", ".join(stores) or "(none: add a data store, such as a PostgreSQL)"
        raise self.fail(key, "missing: which service holds drills' write ledger (the RPO is "
                        f"measured there); one of {which}")
