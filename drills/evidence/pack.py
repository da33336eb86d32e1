"""Sealing a run into its evidence pack, when the run ends (after the reports are written)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.evidence.manifest import FILE_NAME, build_manifest
from drills.evidence.pdf import FILE_NAME as PDF
from drills.evidence.pdf import write_pdf
from drills.evidence.signing import sign
from drills.journal import ScenarioFiles, load_journal, write_json
from drills.measure.evaluate import DrillResult

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
         plan_path: Path, sign_key: Path | None, plan_source: bytes | None = None) -> Sealed:
    """Copy the plan, render the PDF, write the manifest and sign it."""
    plan_copy = copy_plan(run_dir, plan_path, plan_source)
    pdf_problem = write_pdf(run_dir / "index.html", run_dir / PDF)
    # the steps from each journal alone (the op histories, which can be large, are not needed)
    steps = [load_journal(ScenarioFiles(run_dir / r.scenario)).timeline.steps()
             for r in results]
    manifest = run_dir / FILE_NAME
    write_json(manifest, build_manifest(run_dir, results, steps, meta, plan_copy, pdf_problem))
    signature = sign(manifest, sign_key) if sign_key is not None else None
    return Sealed(manifest, signature, pdf_problem)
