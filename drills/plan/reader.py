"""Validating a version 1 plan into a Plan: every key known, every value one that makes sense.

Version 2 (drills.plan.reader_v2) shares these value checks; which reader reads a file is
decided by its ``version:`` key, in drills.plan.read.

What is refused, beyond unknown keys and wrong types: NaN and infinity; numbers too large
to mean anything; numbers YAML 1.1 would read differently (``030`` is octal 24 there,
``1:30`` is 90); text with control characters in the name or description; a scenario
without targets (a drill that cannot fail) or with an RTO target of 0 (one that cannot
pass); a probe timeout of 0 or below the probe interval; a recovery timeout of 0; a count
parameter of 0.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import reprlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from drills.catalogue import CATALOGUE, Param
from drills.errors import PlanError, printable
from drills.plan.model import (
    Acceptance,
    BackupSchedule,
    Plan,
    ProbeSpec,
    RegressionLimits,
    ScenarioPlan,
    Targets,
    WorkloadSpec,
)
from drills.plan.scenario_spec import Phase

_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*((?:0|[1-9]\d*)(?:\.\d+)?)\s*([a-z]*)\s*$")
#: what YAML 1.1 would read as a number, differently from what a person sees
_AMBIGUOUS = re.compile(r"^[-+]?(?:0[0-9_]+|0[xob][0-9a-f_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+"
                        r"|[0-9]+(?:_[0-9]+)+)(?:\.[0-9_]*)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*((?:0|[1-9]\d*)(?:\.\d+)?)\s*([a-z]*)\s*$")
MAX_DATASET = 64 * 10**9  # what a drill may load: beyond it, a typo
MAX_PRODUCTION = 10**18
_TEXT_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_DURATION_S = 366 * 86400.0  # a year: any target or timeout beyond it is a typo
MAX_COUNT = 1_000_000_000
#: the keys of a targets mapping
TARGET_KEYS = ("rto", "rpo", "max_lost_writes", "availability", "p99_latency",
               "discard_window")
#: what every scenario may say about its evidence, in both plan versions
EVIDENCE_KEYS = ("regression", "controls", "accept")
_ACCEPT_KEYS = ("target", "reason", "by", "until")
#: the targets a gap on the real schedule can be about (drills.plan.contradictions)
ACCEPTABLE = ("rto", "rpo", "max_lost_writes", "phases")
_REGRESSION_KEYS = ("rto", "rpo", "runs", "margin")
MAX_CONTROL_CHARS = 100

_show = reprlib.Repr()
_show.maxlevel, _show.maxlist, _show.maxdict, _show.maxstring, _show.maxother = 2, 4, 4, 40, 40


def shown(value: Any) -> str:
    """A value of the file for an error message: short, whatever its size or shape."""
    return printable(_show.repr(value), limit=120)


class PlanReader:
    """Validates plain data into a Plan, remembering the file for error messages."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> PlanError:
        return PlanError(self.path, key, problem)

    def mapping(self, raw: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(key or "(top level)",
                            f"must be a mapping, got {type(raw).__name__} {shown(raw)}")
        for k in raw:
            if k not in allowed:
                where = f"{key}.{k}" if key else str(k)
                raise self.fail(where, f"unknown key; allowed: {', '.join(allowed)}")
        return raw

    def number(self, raw: Any, key: str, *, integer: bool = False, minimum: float = 0.0,
               exclusive: bool = False, maximum: float = MAX_COUNT) -> float:
        kind = "an integer" if integer else "a number"
        if isinstance(raw, str) and _AMBIGUOUS.match(raw.strip()):
            raise self.fail(key, f"{shown(raw)} is ambiguous (YAML 1.1 reads leading zeros as "
                            "octal and a:b as base 60): write a plain decimal number")
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(key, f"must be {kind}, got {shown(raw)}")
        if isinstance(raw, float) and not math.isfinite(raw):
            raise self.fail(key, f"must be a finite number, got {shown(raw)}")
        if integer and not isinstance(raw, int):
            raise self.fail(key, f"must be an integer, got {shown(raw)}")
        if raw < minimum or (exclusive and raw == minimum):
            bound = f"more than {minimum:g}" if exclusive else f"at least {minimum:g}"
            raise self.fail(key, f"must be {bound}, got {shown(raw)}")
        if raw > maximum:
            raise self.fail(key, f"must be at most {maximum:g}, got {shown(raw)}")
        return float(raw)

    def duration(self, raw: Any, key: str, *, positive: bool = False) -> float:
        if isinstance(raw, str):
            match = _DURATION.match(raw.lower())
            if not match or (match.group(2) or "s") not in _UNITS:
                if _AMBIGUOUS.match(raw.strip()):
                    return self.number(raw, key)  # raises, saying why
                raise self.fail(
                    key, f"cannot read duration {shown(raw)}; use seconds or a number with "
                    f"a unit: {', '.join(_UNITS)} (e.g. '30s', '15m')",
                )
            raw = float(match.group(1)) * _UNITS[match.group(2) or "s"]
        return self.number(raw, key, minimum=0.0, exclusive=positive, maximum=MAX_DURATION_S)

    def text(self, raw: Any, key: str, *, multiline: bool = False) -> str:
        if not isinstance(raw, str):
            raise self.fail(key, f"must be text, got {type(raw).__name__} {shown(raw)}")
        control = _TEXT_CONTROL.search(raw.replace("\t", "").replace("\n", "")
                                       if multiline else raw)
        if control:
            raise self.fail(key, "must not contain control characters")
        return raw

    def plan_v1(self, raw: Any, sha256: str) -> Plan:
        """A version 1 plan (drills.plan.read chose this reader by its ``version:``)."""
        if isinstance(raw, dict) and any(k in raw for k in ("stack", "backups", "procedures",
                                                            "targets", "drill_every")):
            raise self.fail("version", "stack, backups, procedures and targets are sections of "
                            "plan version 2: set `version: 2` (see the README's \"Drill your "
                            "own stack\")")
        top = self.mapping(raw, "", ("version", "name", "description", "defaults", "scenarios"))
        name = self.text(top.get("name", self.path.stem), "name")
        description = self.text(top.get("description", ""), "description", multiline=True)
        defaults = self.mapping(
            top.get("defaults"), "defaults",
            ("workload", "probe", "recovery_timeout", "dataset", "regression")
        )
        dataset = (self.size(defaults["dataset"], "defaults.dataset", MAX_DATASET)
                   if "dataset" in defaults else 0)
        workload = self.workload(defaults.get("workload"), "defaults.workload", WorkloadSpec())
        probe = self.probe(defaults.get("probe"), "defaults.probe", ProbeSpec())
        recovery_timeout = self.duration(
            defaults.get("recovery_timeout", 60), "defaults.recovery_timeout", positive=True
        )
        raw_scenarios = top.get("scenarios")
        if not isinstance(raw_scenarios, dict) or not raw_scenarios:
            raise self.fail("scenarios", "must map at least one scenario name to its targets; "
                            f"known scenarios: {', '.join(CATALOGUE)}")
        scenarios = {
            n: self.scenario(n, s, workload, probe, recovery_timeout, dataset)
            for n, s in raw_scenarios.items()
        }
        return Plan(self.path, sha256, name,
                    self.with_evidence(scenarios, raw_scenarios, defaults), description)

    def scenario(
        self, name: str, raw: Any, workload: WorkloadSpec, probe: ProbeSpec, timeout: float,
        dataset: int = 0, key: str | None = None,
    ) -> ScenarioPlan:
        key = key or f"scenarios.{name}"
        if name not in CATALOGUE:
            raise self.fail(key, f"unknown scenario; known: {', '.join(CATALOGUE)}")
        entry = self.mapping(
            raw, key, ("targets", "workload", "probe", "recovery_timeout", "params",
                       "dataset", "backup", *EVIDENCE_KEYS)
        )
        info = CATALOGUE[name]
        raw_params = self.mapping(entry.get("params"), f"{key}.params", tuple(info.params))
        params: dict[str, Any] = {p: spec.default for p, spec in info.params.items()}
        for p, value in raw_params.items():
            params[p] = self.param(value, f"{key}.params.{p}", info.params[p])
        if info.negative_control:
            if entry.get("targets"):
                raise self.fail(f"{key}.targets", f"{name} is a negative control: it passes "
                                f"only when the fault shows its damage ({info.negative_control}); "
                                "no target applies to it: remove `targets`")
        elif "targets" not in entry:
            raise self.fail(f"{key}.targets", "missing: a scenario without targets is a drill "
                            f"that cannot fail; set at least one of {', '.join(TARGET_KEYS)}")
        targets = Targets() if info.negative_control else \
            self.targets(entry["targets"], f"{key}.targets")
        plan = ScenarioPlan(
            name=name,
            targets=targets,
            params=params,
            backup=self.backup(entry.get("backup"), f"{key}.backup"),
            **self.run_settings(entry, key, workload, probe, timeout, dataset),
        )
        if info.loses_by_design and not targets.states_loss:
            raise self.fail(f"{key}.targets", f"{name} loses acknowledged writes by design "
                            f"({info.loses_by_design}), and the plan does not say how many it "
                            "accepts: set rpo (how far back the loss may reach) or "
                            "max_lost_writes; every lost write is judged")
        return plan

    def run_settings(self, entry: dict[str, Any], key: str, workload: WorkloadSpec,
                     probe: ProbeSpec, timeout: float, dataset: int) -> dict[str, Any]:
        """How a scenario runs (load, probe, recovery timeout, dataset), over the defaults."""
        return {
            "workload": self.workload(entry.get("workload"), f"{key}.workload", workload),
            "probe": self.probe(entry.get("probe"), f"{key}.probe", probe),
            "recovery_timeout_s": self.duration(entry.get("recovery_timeout", timeout),
                                                f"{key}.recovery_timeout", positive=True),
            "dataset_bytes": (self.size(entry["dataset"], f"{key}.dataset", MAX_DATASET)
                              if "dataset" in entry else dataset),
        }

    def with_evidence(self, scenarios: dict[str, ScenarioPlan], raw: dict[str, Any],
                      defaults: dict[str, Any]) -> dict[str, ScenarioPlan]:
        """Each scenario's regression limits (over ``defaults.regression``) and controls."""
        base = defaults.get("regression")
        if base is not None:
            self.regression(base, "defaults.regression")  # invalid defaults fail here
        out = {}
        for name, plan in scenarios.items():
            found = raw.get(name)
            entry: dict[str, Any] = found if isinstance(found, dict) else {}
            key = f"scenarios.{name}"
            limits = None
            if "regression" in entry:  # `regression: ~` turns the defaults off
                own = entry["regression"]
                if own is not None:
                    if not isinstance(own, dict):
                        raise self.fail(f"{key}.regression", "must be a mapping of "
                                        f"{', '.join(_REGRESSION_KEYS)}, or ~ for none")
                    limits = self.regression({**(base or {}), **own}, f"{key}.regression")
            elif base is not None:
                limits = self.regression(base, "defaults.regression")
            out[name] = replace(plan, regression=limits,
                                controls=self.controls(entry.get("controls"), f"{key}.controls"),
                                accepts=self.acceptances(entry.get("accept"), f"{key}.accept"))
        return out

    def acceptances(self, raw: Any, key: str) -> tuple[Acceptance, ...]:
        """``accept: [{target: rpo, reason: ..., by: ..., until: 2027-03-31}]``."""
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.fail(key, "must be a list of {target, reason, by, until}")
        out = []
        for i, item in enumerate(raw):
            where = f"{key}[{i}]"
            entry = self.mapping(item, where, _ACCEPT_KEYS)
            for k in _ACCEPT_KEYS:
                if k not in entry:
                    raise self.fail(f"{where}.{k}", "missing: an accepted gap says which "
                                    "target (target), why (reason), who signed it off (by) and "
                                    "the last day it holds (until, YYYY-MM-DD)")
            target = self.text(entry["target"], f"{where}.target")
            phase = target.removeprefix("phases.")
            if target not in ACCEPTABLE and not (target.startswith("phases.")
                                                 and phase in {p.value for p in Phase}):
                raise self.fail(f"{where}.target", f"{shown(target)}: one of "
                                f"{', '.join(ACCEPTABLE)}, or phases.PHASE")
            until = entry["until"]
            text = until.isoformat() if isinstance(until, dt.date) else str(until)
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                raise self.fail(f"{where}.until", f"{shown(until)}: a date, YYYY-MM-DD (the "
                                "last day the acceptance holds)") from None
            reason = self.text(entry["reason"], f"{where}.reason", multiline=True).strip()
            by = self.text(entry["by"], f"{where}.by").strip()
            if not reason or not by:
                raise self.fail(f"{where}.{'reason' if not reason else 'by'}", "empty: say why "
                                "the gap is accepted and who signed it off")
            out.append(Acceptance(target, reason, by, text))
        return tuple(out)

    def regression(self, raw: Any, key: str) -> RegressionLimits:
        """``{rto: 30%, rpo: 50%, runs: 5, margin: 1s}``: limits against the recent past."""
        entry = self.mapping(raw, key, _REGRESSION_KEYS)
        if "rto" not in entry and "rpo" not in entry:
            raise self.fail(key, "give rto and/or rpo: how far above the median of the last "
                            "passing runs the figure may go, e.g. `rto: 30%`")
        runs = int(self.number(entry.get("runs", 5), f"{key}.runs", integer=True, minimum=1,
                               maximum=1000))
        return RegressionLimits(
            rto=self.percent(entry["rto"], f"{key}.rto") if "rto" in entry else None,
            rpo=self.percent(entry["rpo"], f"{key}.rpo") if "rpo" in entry else None,
            runs=runs, margin_s=self.duration(entry.get("margin", 0), f"{key}.margin"))

    def percent(self, raw: Any, key: str) -> float:
        """A rise, as a percentage: ``30%`` is 0.3; 0% means no rise at all."""
        text = raw.strip() if isinstance(raw, str) else None
        if text is None or not text.endswith("%"):
            raise self.fail(key, f"cannot read {shown(raw)}; write a percentage such as '30%' "
                            "(above the median of the last passing runs)")
        try:
            value = float(text[:-1])
        except ValueError:
            raise self.fail(key, f"cannot read {shown(raw)}; write a percentage such as "
                            "'30%'") from None
        return self.number(value, key, maximum=10_000.0) / 100.0

    def controls(self, raw: Any, key: str) -> tuple[str, ...]:
        """Audit control ids, free text: ``[ISO27001:A.8.13, SOC2:A1.3]``."""
        if raw is None:
            return ()
        if not isinstance(raw, list) or not raw:
            raise self.fail(key, "must be a list of control ids, e.g. "
                            "[ISO27001:A.8.13, SOC2:A1.3]")
        out: list[str] = []
        for i, item in enumerate(raw):
            text = self.text(item, f"{key}[{i}]").strip()
            if not text or len(text) > MAX_CONTROL_CHARS:
                raise self.fail(f"{key}[{i}]", f"a control id of 1 to {MAX_CONTROL_CHARS} "
                                "characters, got " + shown(item))
            if text in out:
                raise self.fail(f"{key}[{i}]", f"{text} is listed twice")
            out.append(text)
        return tuple(out)

    def size(self, raw: Any, key: str, maximum: int) -> int:
        """A data size: bytes, or a number with a unit (``200MB``, ``1.5GiB``)."""
        if isinstance(raw, str):
            match = _SIZE.match(raw.lower())
            if not match or match.group(2) not in _SIZE_UNITS:
                raise self.fail(key, f"cannot read size {shown(raw)}; use bytes or a number "
                                "with a unit: B, kB, MB, GB, TB, KiB, MiB, GiB, TiB "
                                "(e.g. '200MB')")
            raw = float(match.group(1)) * _SIZE_UNITS[match.group(2)]
            raw = int(raw) if math.isfinite(raw) else raw
        return int(self.number(raw, key, integer=not isinstance(raw, float), maximum=maximum))

    def backup(self, raw: Any, key: str) -> BackupSchedule | None:
        """The real backup schedule and production size, for projections."""
        if raw is None:
            return None
        entry = self.mapping(raw, key, ("every", "production_size"))
        if not entry:
            raise self.fail(key, "empty: give every (the real interval, e.g. 24h) and/or "
                            "production_size (e.g. 500GB)")
        return BackupSchedule(
            every_s=(self.duration(entry["every"], f"{key}.every", positive=True)
                     if "every" in entry else None),
            production_bytes=(self.size(entry["production_size"], f"{key}.production_size",
                                        MAX_PRODUCTION)
                              if "production_size" in entry else None),
        )

    def param(self, raw: Any, key: str, spec: Param) -> float | int:
        value = self.number(raw, key, integer=spec.type is int, minimum=spec.minimum,
                            exclusive=spec.exclusive, maximum=spec.maximum)
        return int(value) if spec.type is int else value

    def targets(self, raw: Any, key: str) -> Targets:
        entry = self.mapping(raw, key, TARGET_KEYS)
        entry = {k: v for k, v in entry.items() if v is not None}  # `rto: ~` sets nothing
        if not entry:
            raise self.fail(key, "empty: a scenario without targets is a drill that cannot "
                            f"fail; set at least one of {', '.join(TARGET_KEYS)}")
        lost = entry.get("max_lost_writes")
        rto = None
        if "rto" in entry:
            rto = self.duration(entry["rto"], f"{key}.rto")
            if rto == 0:
                raise self.fail(f"{key}.rto", "0 can never pass: a service needs some time to "
                                "answer again after a fault; give the time the plan promises")
        return Targets(
            rto_s=rto,
            rpo_s=self.duration(entry["rpo"], f"{key}.rpo") if "rpo" in entry else None,
            max_lost_writes=(
                None if lost is None
                else int(self.number(lost, f"{key}.max_lost_writes", integer=True))
            ),
            availability=(self.fraction(entry["availability"], f"{key}.availability")
                          if "availability" in entry else None),
            p99_latency_s=(self.duration(entry["p99_latency"], f"{key}.p99_latency",
                                         positive=True) if "p99_latency" in entry else None),
            discard_window_s=(self.duration(entry["discard_window"], f"{key}.discard_window")
                              if "discard_window" in entry else None),
        )

    def fraction(self, raw: Any, key: str) -> float:
        """A share: ``99.5%``, or a number from 0 to 1 (``0.995``)."""
        if isinstance(raw, str) and raw.strip().endswith("%"):
            try:
                percent = float(raw.strip()[:-1])
            except ValueError:
                raise self.fail(key, f"cannot read {shown(raw)}; write a percentage such as "
                                "'99.5%' or a fraction such as 0.995") from None
            return self.number(percent, key, maximum=100.0) / 100.0
        if isinstance(raw, str):
            raise self.fail(key, f"cannot read {shown(raw)}; write a percentage such as "
                            "'99.5%' or a fraction such as 0.995")
        if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 1:
            raise self.fail(key, f"{shown(raw)} is more than 1: write '{raw}%' for a "
                            "percentage, or a fraction such as 0.995")
        return self.number(raw, key, maximum=1.0)

    def workload(self, raw: Any, key: str, base: WorkloadSpec) -> WorkloadSpec:
        entry = self.mapping(raw, key, ("users", "rate", "warmup", "hold", "workers",
                                        "remote_workers", "master"))
        spec = base
        if "users" in entry:
            users = self.number(entry["users"], f"{key}.users", integer=True, minimum=1,
                                maximum=10_000)
            spec = replace(spec, users=int(users))
        if "rate" in entry:
            spec = replace(spec, rate=self.number(entry["rate"], f"{key}.rate",
                                                  maximum=10_000_000))
        if "warmup" in entry:
            spec = replace(spec, warmup_s=self.duration(entry["warmup"], f"{key}.warmup"))
        if "hold" in entry:
            spec = replace(spec, hold_s=self.duration(entry["hold"], f"{key}.hold"))
        return self.distribution(entry, key, spec)

    def distribution(self, entry: dict[str, Any], key: str, spec: WorkloadSpec) -> WorkloadSpec:
        """Locust's distributed mode: workers here, workers joining from other hosts."""
        if "workers" in entry:
            spec = replace(spec, workers=int(self.number(entry["workers"], f"{key}.workers",
                                                         integer=True, maximum=64)))
        if "remote_workers" in entry:
            spec = replace(spec, remote_workers=int(self.number(
                entry["remote_workers"], f"{key}.remote_workers", integer=True, maximum=64)))
        if "master" in entry:
            master = self.text(entry["master"], f"{key}.master")
            host, _, port = master.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise self.fail(f"{key}.master", f"{shown(master)} is not host:port; write "
                                "where the Locust master listens, such as 0.0.0.0:5557")
            spec = replace(spec, master=master)
        if spec.remote_workers and spec.master is None:
            raise self.fail(f"{key}.master", f"missing: {spec.remote_workers} remote workers "
                            "must reach the master; give the address it listens on, such as "
                            "0.0.0.0:5557 (and open that port to them)")
        if spec.distributed and spec.users < spec.workers + spec.remote_workers:
            raise self.fail(f"{key}.users", f"{spec.users} users for "
                            f"{spec.workers + spec.remote_workers} workers: give each worker "
                            "at least one user")
        return spec

    def probe(self, raw: Any, key: str, base: ProbeSpec) -> ProbeSpec:
        entry = self.mapping(raw, key, ("interval", "timeout"))
        spec = base
        if "interval" in entry:
            interval = self.duration(entry["interval"], f"{key}.interval")
            if interval < 0.005:
                raise self.fail(f"{key}.interval", f"must be at least 5ms, got {interval:g} s")
            spec = replace(spec, interval_s=interval)
        if "timeout" in entry:
            spec = replace(spec, timeout_s=self.duration(entry["timeout"], f"{key}.timeout",
                                                         positive=True))
        if spec.timeout_s < spec.interval_s:
            where = f"{key}.timeout" if "timeout" in entry else f"{key}.interval"
            raise self.fail(where, f"the probe timeout ({spec.timeout_s:g} s) is below the "
                            f"probe interval ({spec.interval_s:g} s): every slow answer would "
                            "overlap the next probe; make the timeout at least the interval")
        return spec
