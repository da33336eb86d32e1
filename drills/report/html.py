"""The HTML report for people: one self-contained page built from the evaluated results."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from drills import kinds
from drills.errors import UnknownKind
from drills.measure.evaluate import DrillResult
from drills.measure.verdict import Verdict, fmt_s
from drills.record.timeline import Step
from drills.report.controls_view import controls_view
from drills.report.levels_view import levels_view
from drills.report.records import SOURCE_FILES
from drills.report.replication_view import replication_view
from drills.report.restore_view import backups_view, restore_view
from drills.report.runbook import redact, runbook_rows
from drills.report.summary import missing, run_verdict
from drills.report.summary_view import Bar, summary_rows
from drills.trends.store import Point

_TEMPLATES = Path(__file__).with_name("templates")
_CSS = {Verdict.PASS: "pass", Verdict.FAIL: "fail", Verdict.COULD_NOT_VERIFY: "cnv"}
_SECRET_KEY = re.compile(r"pass|secret|token", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(//[^:/@\s]+):[^@\s]*@")
LOST_IDS_SHOWN = 20


@dataclass(frozen=True)
class ScenarioPage:
    """What the page shows beside a result that the result itself does not hold."""

    directory: str  # the scenario's records, relative to the run directory
    chart_svg: str | None  # trusted: made by drills.report.charts from matplotlib
    chart_note: str
    duration_s: float | None = None
    steps: tuple[Step, ...] = ()
    drilled: str = ""  # what was drilled, in a line (drills.report.summary_view)
    trend_svg: str | None = None  # trusted: made by drills.report.trend_chart
    trend: tuple[Point, ...] = ()  # earlier runs, then this one


def wall_utc(epoch: float | None) -> str:
    if epoch is None:
        return "n/a"
    moment = datetime.fromtimestamp(float(epoch), tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def kind_title(kind: str) -> str:
    """A kind as people name it ("PostgreSQL"); a kind no longer registered, as recorded."""
    try:
        return kinds.get(kind).title
    except UnknownKind:
        return kind


def _verdict(verdict: Verdict) -> dict[str, str]:
    return {"text": str(verdict), "css": _CSS.get(verdict, "cnv")}


def _why(result: DrillResult, *keys: str) -> str:
    """The reason a figure is missing: its check's reason, else the scenario's errors."""
    for check in result.checks:
        if check.key in keys and check.reason:
            return check.reason
    return "; ".join(result.errors) or "not measured"


def _anchor(scenario: str) -> str:
    return "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", scenario)


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _rto_view(result: DrillResult) -> dict[str, Any]:
    rto, probe = result.rto, result.probe
    view: dict[str, Any] = {"interval": fmt_s(probe.interval_s), "timeout": fmt_s(probe.timeout_s),
                            "cost": result.probe_cost.text() if result.probe_cost else "n/a"}
    if rto is None:
        return {**view, "measured": False, "why": _why(result, "rto_s"),
                "achieved": "n/a", "phases": []}
    if rto.seconds is None:
        value = f"not recovered: no probe passed in the {fmt_s(rto.observed_s)} watched"
    elif not rto.outage_seen:
        value = (f"0 s: no outage seen, every probe after the fault passed (one shorter than "
                 f"{fmt_s(rto.resolution_s)}, the longest gap between answers, could hide)")
    else:
        value = f"{fmt_s(rto.seconds)} (resolution +0/-{fmt_s(rto.resolution_s)})"
    return {
        **view, "measured": True, "value": value, "no_outage": not rto.outage_seen,
        "achieved": fmt_s(rto.achieved_interval_s),
        "probes_after": rto.probes_after_fault,
        "failed_probes": rto.failed_probes_after_fault,
        "observed": fmt_s(rto.observed_s),
        "phases": [{"name": p.name, "start": _num(p.start_s), "end": _num(p.end_s),
                    "duration": _num(p.duration_s)} for p in rto.phases],
    }


def _writes_view(result: DrillResult) -> dict[str, Any]:
    w, rpo = result.writes, result.rpo
    if w is None:
        return {"measured": False, "why": _why(result, "integrity", "max_lost_writes")}
    counts = [("invoked", w.invoked), ("acknowledged", w.acked), ("failed", w.failed),
              ("unknown", w.unknown), ("lost", len(w.lost)), ("recovered", len(w.recovered)),
              ("unexpected", len(w.unexpected)), ("corrupted", len(w.corrupted))]
    view: dict[str, Any] = {
        "measured": True, "counts": counts,
        "id_ranges": [(name, len(ids), ids.ranges_text(LOST_IDS_SHOWN))
                      for name, ids in w.classes().items() if len(ids)],
    }
    if rpo is None:
        view.update(window="n/a", span="n/a", acked_before="n/a", rpo_why=_why(result, "rpo_s"))
    else:
        window = fmt_s(rpo.window_s)
        if rpo.censored:  # docs/measurement.md rule 13: a bound is not a value
            window = f"at least {window} (the loss reaches back to the drill's first write)"
        view.update(window=window, span=fmt_s(rpo.lost_span_s),
                    acked_before=str(rpo.acked_before_fault), rpo_why="",
                    lost_after_fault=f"{rpo.lost_after_fault} (the newest "
                    f"{fmt_s(rpo.after_fault_span_s)} after the fault)"
                    if rpo.lost_after_fault else "0")
    return view


def _endpoint(raw: Mapping[str, Any]) -> str:
    parts = []
    for key, value in raw.items():
        if _SECRET_KEY.search(key) or key == "kind":
            continue
        shown = _URL_PASSWORD.sub(r"\1:<redacted>@", str(value))
        parts.append(f"{key}={shown}")
    return " ".join(parts)


def _services(env: Mapping[str, Any]) -> list[dict[str, Any]]:
    services = env.get("services") or {}
    rows = []
    for name, raw in services.items():
        svc = raw if isinstance(raw, Mapping) else {}
        kind = str(svc.get("kind", name))
        settings = svc.get("settings") or {}
        rows.append({
            "name": name, "kind": kind_title(kind),
            "version": str(svc.get("version", "unknown")),
            "runtime": str(svc.get("runtime", "n/a")),
            "endpoint": _endpoint(svc.get("endpoint") or {}),
            "binary": str(svc.get("binary", "")),
            "image": str(svc.get("image", "")),
            "image_id": str(svc.get("image_id", "")),
            "digests": [str(d) for d in svc.get("image_digests") or []],
            "container": str(svc.get("container", "")),
            "network": str(svc.get("network", "")),
            "settings": [f"{k} = {v}" for k, v in settings.items()],
        })
    return rows


def _environment(env: Mapping[str, Any]) -> dict[str, Any]:
    plan = env.get("plan") or {}
    facts = [("python", env.get("python")), ("drills", env.get("drills")),
             ("host", env.get("host")), ("platform", env.get("platform")),
             ("cpus", env.get("cpus")), ("plan", plan.get("path")),
             ("plan sha256", plan.get("sha256"))]
    shown = [(k, "n/a" if v is None else str(v)) for k, v in facts]
    runtime = env.get("runtime") or {}
    allowed = runtime.get("allowed") if isinstance(runtime, Mapping) else None
    if allowed:  # the host access the plan's stack.allow permitted (own compose project)
        shown.append(("allowed by the plan", "; ".join(
            f"{svc}: {', '.join(str(n) for n in names)}" for svc, names in allowed.items())))
    return {"facts": shown, "services": _services(env)}


_SKIPPED_DATA = {"ok", "error", "mechanism", "service", "asked_mono", "effect_mono", "effect_wall"}


def _steps_view(result: DrillResult, steps: Sequence[Step]) -> list[dict[str, str]]:
    """Every step of the drill with its mechanism: what was done, how, and how long it took."""
    origin = result.t_fault_mono
    rows = []
    for step in steps:
        start = step.start.mono - origin if origin is not None else None
        facts = {k: v for k, v in step.data.items() if k not in _SKIPPED_DATA}
        rows.append({
            "category": str(step.category), "name": step.name,
            "start": "n/a" if start is None else f"{start:+.3f} s",
            "duration": fmt_s(step.duration_s),
            "how": redact(str(step.data.get("mechanism", ""))),
            "outcome": "ok" if step.ok else
            f"failed: {redact(str(step.data.get('error', 'did not finish')))}",
            "facts": ", ".join(f"{k}={_short(redact(str(v)))}" for k, v in facts.items()),
        })
    return rows


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _verdict_rows(result: DrillResult) -> list[dict[str, Any]]:
    """One row per target the scenario checked; a scenario that checked none, one such row."""
    base = {"scenario": result.scenario, "anchor": _anchor(result.scenario)}
    if not result.checks:
        return [{**base, "title": "any target", "target": "n/a", "measured": "n/a",
                 "resolution": "n/a", "verdict": _verdict(Verdict.COULD_NOT_VERIFY),
                 "reason": "no target was checked"}]
    return [{**base, "title": c.title, "target": c.target, "measured": c.measured,
             "resolution": c.resolution or "n/a", "verdict": _verdict(c.verdict),
             "reason": c.reason} for c in result.checks]


def _bar_view(bar: Bar) -> dict[str, Any]:
    css = "none" if bar.verdict is None else _CSS.get(bar.verdict, "cnv")
    return {**asdict(bar), "css": css}


def _scenario(result: DrillResult, page: ScenarioPage) -> dict[str, Any]:
    return {
        "name": result.scenario, "anchor": _anchor(result.scenario),
        "checks": _verdict_rows(result),
        "probed": result.probed_service or "n/a", "store": result.store_service or "n/a",
        "runtime": result.runtime, "verdict": _verdict(result.verdict),
        "fault_at": wall_utc(result.t_fault_wall), "directory": page.directory,
        "duration": fmt_s(page.duration_s),
        "chart": Markup(page.chart_svg) if page.chart_svg else None,
        "chart_note": page.chart_note,
        "rto": _rto_view(result), "writes": _writes_view(result),
        "backups": backups_view(result), "restore": restore_view(result),
        "replication": replication_view(result),
        "levels": levels_view(result),
        "steps": _steps_view(result, page.steps),
        "runbook": runbook_rows(result, page.steps),
        "trend": Markup(page.trend_svg) if page.trend_svg else None,
        "trend_runs": len(page.trend),
        "regression_note": result.regression_note,
        "controls": list(result.controls),
        "findings": [f.to_dict() for f in result.findings],
        "errors": list(result.errors),
        "environment": _environment(result.environment),
    }


def _versions(results: Sequence[DrillResult]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for result in results:
        for svc in _services(result.environment):
            seen[(svc["kind"], svc["version"])] = None
    return list(seen)


def build_context(
    results: Sequence[DrillResult], pages: Sequence[ScenarioPage], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """Everything the template shows, as plain strings and lists."""
    plan = meta.get("plan") or {}
    # the targets checked first, then the scenarios that checked none
    rows = [row for r in results if r.checks for row in _verdict_rows(r)]
    rows += [row for r in results if not r.checks for row in _verdict_rows(r)]
    summary = summary_rows(results, [p.drilled for p in pages],
                           {r.scenario: p.trend for r, p in zip(results, pages, strict=True)})
    for row in summary:
        row["verdict"] = _verdict(row["verdict"])
        row["anchor"] = _anchor(row["scenario"])
        row["rto_bar"], row["rpo_bar"] = _bar_view(row["rto_bar"]), _bar_view(row["rpo_bar"])
    controls = controls_view(results, [wall_utc(r.t_fault_wall) for r in results])
    for control in controls:
        control["verdict"] = _verdict(control["verdict"])
        for d in control["drills"]:
            d["verdict"], d["anchor"] = _verdict(d["verdict"]), _anchor(d["scenario"])
    return {
        "summary": summary, "controls": controls,
        "operator": meta.get("operator") or "n/a",
        "run_id": meta.get("run_id", "n/a"), "runtime": meta.get("runtime", "n/a"),
        "plan": {"name": plan.get("name", "n/a"), "path": plan.get("path", "n/a"),
                 "sha256": plan.get("sha256", "n/a"),
                 "contradictions": list(plan.get("contradictions") or []),
                 "cadence": (plan.get("cadence") or {}).get("text"),
                 "overdue": bool((plan.get("cadence") or {}).get("overdue"))},
        "started": wall_utc(meta.get("started_wall")),
        "finished": wall_utc(meta.get("finished_wall")),
        "command": meta.get("command", "n/a"),
        "verdict": _verdict(run_verdict(results, meta)),
        "missing": missing(results, meta), "interrupted": bool(meta.get("interrupted")),
        "versions": _versions(results),
        "signed": bool(meta.get("signed")),
        "rows": rows,
        "scenarios": [_scenario(r, p) for r, p in zip(results, pages, strict=True)],
    }


def render_html(
    results: Sequence[DrillResult], pages: Sequence[ScenarioPage], meta: Mapping[str, Any]
) -> str:
    env = Environment(loader=FileSystemLoader(_TEMPLATES),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(
        **build_context(results, pages, meta), source_files=SOURCE_FILES)
