"""Reports of a run: index.html, runbook.md, summary.json, junit.xml and ids files.

index.html and runbook.md are for people, summary.json and junit.xml for machines, and
each scenario's ids.txt.gz holds every id of each class of the write check.

Everything is rendered from the evaluated results and the scenario records saved in the
run directory (DESIGN.md, rule 9), so ``write_reports`` can be run again on an old run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.journal import write_json
from drills.measure.evaluate import DrillResult
from drills.report.charts import drill_chart
from drills.report.html import ScenarioPage, render_html
from drills.report.ids_file import write_ids
from drills.report.junit import write_junit
from drills.report.levels_view import phase_bands
from drills.report.records import Records, load_records
from drills.report.runbook import FILE_NAME as RUNBOOK
from drills.report.runbook import write_runbook
from drills.report.summary import build_summary
from drills.report.summary_view import drilled
from drills.report.trend_chart import trend_svg
from drills.trends.series import load_trends
from drills.trends.store import Point

__all__ = ["ReportPaths", "write_reports"]


@dataclass(frozen=True)
class ReportPaths:
    """Where the reports of a run were written."""

    html: Path
    summary: Path
    junit: Path
    runbook: Path


def _page(run_dir: Path, result: DrillResult, records: Records,
          trend: list[Point]) -> ScenarioPage:
    observed = result.rto.observed_s if result.rto else None
    first_good = result.rto.first_good_mono if result.rto else None
    if result.rto is not None and not result.rto.outage_seen:  # nothing to shade
        observed = first_good = None
    chart = drill_chart(result.scenario, result.bins, records.steps, result.t_fault_mono,
                        first_good, observed, phase_bands(result), result.zoom_bins)
    # Where the history could not be read, the evaluation's problem says why.
    history_problems = [e for e in result.errors if "op history" in e]
    note = "; ".join(history_problems) if result.bins is None and history_problems \
        else chart.note
    root = records.files.root
    directory = str(root.relative_to(run_dir)) if root.is_relative_to(run_dir) else str(root)
    scenario = records.journal.scenario if records.journal else {"name": result.scenario}
    return ScenarioPage(directory, chart.svg, note, records.duration_s, tuple(records.steps),
                        drilled(scenario, records.steps), trend_svg(result.scenario, trend),
                        tuple(trend))


def write_reports(
    run_dir: Path, results: Sequence[DrillResult], meta: Mapping[str, Any]
) -> ReportPaths:
    """Write index.html, runbook.md, summary.json and junit.xml into ``run_dir``.

    The trends come from the run's own trends.json (drills.trends.series), when it has one.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    records = [load_records(run_dir / r.scenario) for r in results]
    for result, record in zip(results, records, strict=True):
        if record.files.root.is_dir():
            write_ids(record.files.root, result)
    paths = ReportPaths(run_dir / "index.html", run_dir / "summary.json", run_dir / "junit.xml",
                        run_dir / RUNBOOK)
    write_json(paths.summary, build_summary(results, meta))
    write_junit(paths.junit, results, [r.duration_s for r in records], meta)
    write_runbook(paths.runbook, results, [rec.steps for rec in records], meta)
    trends = load_trends(run_dir)
    pages = [_page(run_dir, r, rec, trends.get(r.scenario, []))
             for r, rec in zip(results, records, strict=True)]
    html = render_html(results, pages, meta)
    tmp = paths.html.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(paths.html)
    return paths
