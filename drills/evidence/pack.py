"""Sealing a run into its evidence pack, when the run ends.

Nothing may say "pass" before the pack is sealed. So the files that state the verdict
(index.html, runbook.md, summary.json, junit.xml, and report.pdf, rendered from the page
in memory) are hashed into manifest.json from their bytes, and written only after the
manifest and its signature, each atomically (a temporary file renamed over it), summary.json
last. A run stopped while sealing (SIGKILL, a full disk) leaves its journals and no verdict
at all: CI finds no junit.xml, ``drill report`` and ``drill verify`` refuse the directory.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.evidence.manifest import FILE_NAME, build_manifest
from drills.evidence.pdf import FILE_NAME as PDF
from drills.evidence.pdf import Edition, render_pdf, write_pdf
from drills.evidence.signing import sign
from drills.measure.evaluate import DrillResult
from drills.record.journal import ScenarioFiles, load_journal, write_json
from drills.report import write_files

PLAN_DIR = "plan"


@dataclass(frozen=True)
class Sealed:
    manifest: Path
    signature: Path | None
    pdf_problem: str | None


def copy_plan(run_dir: Path, plan_path: Path, source: bytes | None = None) -> str:
    """The plan file itself, as the run read it; returns its path inside the run."""
    target = run_dir / PLAN_DIR / plan_path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if source:
        target.write_bytes(source)
    else:  # a caller with no bytes at hand: the file as it is now
        shutil.copyfile(plan_path, target)
    return target.relative_to(run_dir).as_posix()


def seal(run_dir: Path, results: Sequence[DrillResult], meta: Mapping[str, Any],
         plan_path: Path, sign_key: Path | None, plan_source: bytes | None = None,
         reports: Mapping[str, bytes] | None = None,
         pdf_edition: Edition = Edition.CONDENSED) -> Sealed:
    """Copy the plan, render the PDF, write the manifest and sign it.

    ``reports``: the rendered reports (drills.report.render_reports), written only once
    the manifest and its signature are; without, the reports already in ``run_dir``.
    ``pdf_edition``: which edition of the PDF (drills.evidence.pdf), named in the manifest.
    """
    plan_copy = copy_plan(run_dir, plan_path, plan_source)
    pending = dict(reports or {})
    if "index.html" in pending:
        pdf, pdf_problem = render_pdf(pending["index.html"], run_dir, pdf_edition)
        if pdf is not None:
            pending = {PDF: pdf, **pending}
    else:
        pdf_problem = write_pdf(run_dir / "index.html", run_dir / PDF, pdf_edition)
    # the steps from each journal alone (the op histories, which can be large, are not needed)
    steps = [load_journal(ScenarioFiles(run_dir / r.scenario)).timeline.steps()
             for r in results]
    manifest = run_dir / FILE_NAME
    meta = {**meta, "signed": sign_key is not None}
    write_json(manifest, build_manifest(run_dir, results, steps, meta, plan_copy, pdf_problem,
                                        pending, pdf_edition))
    signature = sign(manifest, sign_key) if sign_key is not None else None
    write_files(run_dir, pending)  # sealed: now the verdict may be read
    return Sealed(manifest, signature, pdf_problem)
