"""The plan: a team's DR targets and which drills prove them, read from a YAML file.

Strict by design: an unknown key or a wrong type stops the run before anything starts,
with an error naming the file, the key and what is allowed. Durations are seconds, or
strings with a unit: ``150ms``, ``30s``, ``15m``, ``4h``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from drills.catalogue import CATALOGUE
from drills.errors import PlanError

_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


@dataclass(frozen=True)
class Targets:
    """What the plan promises for one scenario; None means not promised."""

    rto_s: float | None = None
    rpo_s: float | None = None
    max_lost_writes: int | None = None

    def to_dict(self) -> dict[str, float | int | None]:
        return {"rto_s": self.rto_s, "rpo_s": self.rpo_s, "max_lost_writes": self.max_lost_writes}


@dataclass(frozen=True)
class WorkloadSpec:
    """Load applied during a drill."""

    users: int = 8
    rate: float = 0.0  # total writes/s across users; 0 = as fast as they can
    warmup_s: float = 3.0  # load before the fault
    hold_s: float = 2.0  # load after the first good probe

    def to_dict(self) -> dict[str, float | int]:
        return {"users": self.users, "rate": self.rate, "warmup_s": self.warmup_s,
                "hold_s": self.hold_s}


@dataclass(frozen=True)
class ProbeSpec:
    """The steady-state probe: a write acknowledged and read back, every interval."""

    interval_s: float = 0.05
    timeout_s: float = 1.0  # an answer slower than this counts as down

    def to_dict(self) -> dict[str, float]:
        return {"interval_s": self.interval_s, "timeout_s": self.timeout_s}


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario of the plan, with defaults applied."""

    name: str
    targets: Targets
    workload: WorkloadSpec
    probe: ProbeSpec
    recovery_timeout_s: float
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "targets": self.targets.to_dict(),
            "workload": self.workload.to_dict(),
            "probe": self.probe.to_dict(),
            "recovery_timeout_s": self.recovery_timeout_s,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Plan:
    """A whole plan file, resolved."""

    path: Path
    sha256: str
    name: str
    scenarios: Mapping[str, ScenarioPlan]

    def scenario(self, name: str) -> ScenarioPlan:
        try:
            return self.scenarios[name]
        except KeyError:
            raise PlanError(
                self.path, f"scenarios.{name}",
                f"not in this plan; it has: {', '.join(self.scenarios) or 'none'}",
            ) from None


def default_plan_path() -> Path:
    """The plan that ships with drills and covers every scenario."""
    return Path(__file__).parent / "plans" / "default.yaml"


def load_plan(path: Path | str | None = None) -> Plan:
    """Read and validate a plan file; raise PlanError on the first problem."""
    path = Path(path) if path is not None else default_plan_path()
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise PlanError(path, "(file)", f"cannot read the plan: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as exc:
        raise PlanError(path, "(file)", f"not valid YAML: {exc}") from exc
    return _Reader(path).plan(raw, hashlib.sha256(raw_bytes).hexdigest())


class _Reader:
    """Validates raw YAML into a Plan, remembering the file for error messages."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> PlanError:
        return PlanError(self.path, key, problem)

    def mapping(self, raw: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(key, f"must be a mapping, got {type(raw).__name__}")
        for k in raw:
            if k not in allowed:
                where = f"{key}.{k}" if key else str(k)
                raise self.fail(where, f"unknown key; allowed: {', '.join(allowed)}")
        return raw

    def number(self, raw: Any, key: str, *, integer: bool = False, minimum: float = 0) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            kind = "an integer" if integer else "a number"
            raise self.fail(key, f"must be {kind}, got {raw!r}")
        if integer and not isinstance(raw, int):
            raise self.fail(key, f"must be an integer, got {raw!r}")
        if raw < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {raw!r}")
        return float(raw)

    def duration(self, raw: Any, key: str) -> float:
        if isinstance(raw, str):
            match = _DURATION.match(raw.lower())
            if not match or (match.group(2) or "s") not in _UNITS:
                raise self.fail(
                    key, f"cannot read duration {raw!r}; use seconds or a unit: "
                    f"{', '.join(_UNITS)} (e.g. '30s', '15m')",
                )
            return float(match.group(1)) * _UNITS[match.group(2) or "s"]
        return self.number(raw, key)

    def plan(self, raw: Any, sha256: str) -> Plan:
        top = self.mapping(raw, "", ("version", "name", "description", "defaults", "scenarios"))
        if top.get("version", 1) != 1:
            raise self.fail("version", f"unsupported plan version {top['version']!r}; allowed: 1")
        name = top.get("name", self.path.stem)
        if not isinstance(name, str):
            raise self.fail("name", "must be a string")
        defaults = self.mapping(
            top.get("defaults"), "defaults", ("workload", "probe", "recovery_timeout")
        )
        workload = self.workload(defaults.get("workload"), "defaults.workload", WorkloadSpec())
        probe = self.probe(defaults.get("probe"), "defaults.probe", ProbeSpec())
        recovery_timeout = self.duration(
            defaults.get("recovery_timeout", 60), "defaults.recovery_timeout"
        )
        raw_scenarios = top.get("scenarios")
        if not isinstance(raw_scenarios, dict) or not raw_scenarios:
            raise self.fail("scenarios", "must map at least one scenario name to its targets; "
                            f"known scenarios: {', '.join(CATALOGUE)}")
        scenarios = {
            str(n): self.scenario(str(n), s, workload, probe, recovery_timeout)
            for n, s in raw_scenarios.items()
        }
        return Plan(self.path, sha256, name, scenarios)

    def scenario(
        self, name: str, raw: Any, workload: WorkloadSpec, probe: ProbeSpec, timeout: float
    ) -> ScenarioPlan:
        key = f"scenarios.{name}"
        if name not in CATALOGUE:
            raise self.fail(key, f"unknown scenario; known: {', '.join(CATALOGUE)}")
        entry = self.mapping(
            raw, key, ("targets", "workload", "probe", "recovery_timeout", "params")
        )
        info = CATALOGUE[name]
        raw_params = self.mapping(entry.get("params"), f"{key}.params", tuple(info.params))
        params: dict[str, Any] = {p: spec.default for p, spec in info.params.items()}
        for p, value in raw_params.items():
            spec = info.params[p]
            is_int = spec.type is int
            params[p] = spec.type(self.number(value, f"{key}.params.{p}", integer=is_int))
        return ScenarioPlan(
            name=name,
            targets=self.targets(entry.get("targets"), f"{key}.targets"),
            workload=self.workload(entry.get("workload"), f"{key}.workload", workload),
            probe=self.probe(entry.get("probe"), f"{key}.probe", probe),
            recovery_timeout_s=self.duration(
                entry.get("recovery_timeout", timeout), f"{key}.recovery_timeout"
            ),
            params=params,
        )

    def targets(self, raw: Any, key: str) -> Targets:
        entry = self.mapping(raw, key, ("rto", "rpo", "max_lost_writes"))
        lost = entry.get("max_lost_writes")
        return Targets(
            rto_s=self.duration(entry["rto"], f"{key}.rto") if "rto" in entry else None,
            rpo_s=self.duration(entry["rpo"], f"{key}.rpo") if "rpo" in entry else None,
            max_lost_writes=(
                None if lost is None
                else int(self.number(lost, f"{key}.max_lost_writes", integer=True))
            ),
        )

    def workload(self, raw: Any, key: str, base: WorkloadSpec) -> WorkloadSpec:
        entry = self.mapping(raw, key, ("users", "rate", "warmup", "hold"))
        spec = base
        if "users" in entry:
            users = int(self.number(entry["users"], f"{key}.users", integer=True, minimum=1))
            spec = replace(spec, users=users)
        if "rate" in entry:
            spec = replace(spec, rate=self.number(entry["rate"], f"{key}.rate"))
        if "warmup" in entry:
            spec = replace(spec, warmup_s=self.duration(entry["warmup"], f"{key}.warmup"))
        if "hold" in entry:
            spec = replace(spec, hold_s=self.duration(entry["hold"], f"{key}.hold"))
        return spec

    def probe(self, raw: Any, key: str, base: ProbeSpec) -> ProbeSpec:
        entry = self.mapping(raw, key, ("interval", "timeout"))
        spec = base
        if "interval" in entry:
            interval = self.duration(entry["interval"], f"{key}.interval")
            if interval < 0.005:
                raise self.fail(f"{key}.interval", "must be at least 5ms")
            spec = replace(spec, interval_s=interval)
        if "timeout" in entry:
            spec = replace(spec, timeout_s=self.duration(entry["timeout"], f"{key}.timeout"))
        return spec
