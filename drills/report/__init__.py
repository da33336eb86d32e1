"""Reports of a run: index.html, runbook.md, summary.json, junit.xml, metrics.prom, ids files.

index.html and runbook.md are for people, summary.json, junit.xml and metrics.prom
(Prometheus) for machines, and
each scenario's ids.txt.gz holds every id of each class of the write check.

Everything is rendered from the evaluated results and the scenario records saved in the
run directory (docs/measurement.md rule 9), so ``write_reports`` can be run again on an old run.

The files that state a verdict (index.html, runbook.md, summary.json, junit.xml,
metrics.prom) are
rendered in memory first (``render_reports``): a run writes them only once its evidence
pack is sealed (drills.evidence.pack), so no file says "pass" for a run that was stopped
while sealing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.measure.evaluate import DrillResult
from drills.redact import redact_tree, redact_url_credentials, write_private_bytes
from drills.report.charts import drill_chart
from drills.report.html import ScenarioPage, render_html
from drills.report.ids_file import write_ids
from drills.report.junit import junit_bytes
from drills.report.levels_view import phase_bands
from drills.report.metrics import FILE_NAME as METRICS
from drills.report.metrics import metrics_text
from drills.report.records import Records, load_records
from drills.report.runbook import FILE_NAME as RUNBOOK
from drills.report.runbook import runbook_markdown
from drills.report.summary import build_summary
from drills.report.summary_view import drilled
from drills.report.trend_chart import trend_svg
from drills.report.trend_series import load_trends
from drills.trends.store import Point

__all__ = ["Rendered", "ReportPaths", "render_reports", "write_files", "write_reports"]


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


@dataclass(frozen=True)
class Rendered:
    """The reports of a run, rendered but not yet written: file name -> content."""

    paths: ReportPaths
    files: Mapping[str, bytes]


def render_reports(
    run_dir: Path, results: Sequence[DrillResult], meta: Mapping[str, Any]
) -> Rendered:
    """Render index.html, runbook.md, summary.json, junit.xml and metrics.prom, unwritten.

    Writes only what states no verdict: each scenario's ids files. The trends come from the
    run's own trends.json (drills.report.trend_series), when it has one.
    """
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # URL credentials in no report: the results come from journals already redacted
    # (drills.record.journal.write_json); the run's facts (its command line...) are redacted here
    meta = redact_tree(dict(meta))
    records = [load_records(run_dir / r.scenario) for r in results]
    for result, record in zip(results, records, strict=True):
        if record.files.root.is_dir():
            write_ids(record.files.root, result)
    paths = ReportPaths(run_dir / "index.html", run_dir / "summary.json", run_dir / "junit.xml",
                        run_dir / RUNBOOK)
    trends = load_trends(run_dir)
    pages = [_page(run_dir, r, rec, trends.get(r.scenario, []))
             for r, rec in zip(results, records, strict=True)]
    summary_data = redact_tree(build_summary(results, meta))
    summary = json.dumps(summary_data, indent=1, sort_keys=False)
    files = {
        paths.runbook.name: redact_url_credentials(runbook_markdown(
            results, [rec.steps for rec in records], meta)).encode(),
        paths.junit.name: redact_url_credentials(junit_bytes(
            results, [r.duration_s for r in records], meta).decode()).encode(),
        paths.html.name: render_html(results, pages, meta).encode(),
        METRICS: metrics_text(summary_data).encode(),
        paths.summary.name: summary.encode(),  # last: the file CI and the runs database read
    }
    return Rendered(paths, files)


def write_files(run_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write each file atomically (a temporary file renamed over it), in the order given."""
    for name, data in files.items():
        target = run_dir / name
        tmp = target.with_name(target.name + ".tmp")
        write_private_bytes(tmp, data)
        os.replace(tmp, target)


def write_reports(
    run_dir: Path, results: Sequence[DrillResult], meta: Mapping[str, Any]
) -> ReportPaths:
    """Render the reports and write them into ``run_dir`` at once (no evidence pack)."""
    rendered = render_reports(run_dir, results, meta)
    write_files(run_dir, rendered.files)
    return rendered.paths
