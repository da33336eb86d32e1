"""manifest.json: every file of a run with its sha256, and the facts an auditor asks for.

The facts: the plan (and the copy kept with the run), the drills version (and the git
commit when drills runs from a checkout), the servers' versions and image digests, the
operator, every command the drill's faults and recoveries ran (redacted), start and end.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import drills
from drills.environment import drills_version
from drills.measure.evaluate import DrillResult
from drills.record.timeline import Step
from drills.report.runbook import RUNBOOK_CATEGORIES, command_of, redact
from drills.report.summary import iso_utc

FILE_NAME = "manifest.json"
SCHEMA = 1
#: the manifest itself and its signature vouch for the rest; they are not listed in it
NOT_LISTED = (FILE_NAME, FILE_NAME + ".sig", FILE_NAME + ".tmp")
_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def run_files(run_dir: Path) -> Iterator[Path]:
    """Every file of the run, as paths relative to it, sorted; the manifest's own excluded."""
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir)
        if path.is_file() and not path.is_symlink() and str(rel) not in NOT_LISTED:
            yield rel


def file_entries(run_dir: Path,
                 pending: Mapping[str, bytes] | None = None) -> list[dict[str, Any]]:
    """Every file of the run, with ``pending`` (path -> bytes) as it will be written."""
    entries = {rel.as_posix(): {"path": rel.as_posix(), "sha256": sha256_of(run_dir / rel),
                                "bytes": (run_dir / rel).stat().st_size}
               for rel in run_files(run_dir)}
    for path, data in (pending or {}).items():
        entries[path] = {"path": path, "sha256": hashlib.sha256(data).hexdigest(),
                         "bytes": len(data)}
    return [entries[path] for path in sorted(entries)]


def drills_source() -> dict[str, Any]:
    """The drills that ran: its version, and its git commit when run from a checkout."""
    out: dict[str, Any] = {"version": drills_version(), "git_commit": None, "git_dirty": None}
    top = Path(drills.__file__).resolve().parent.parent
    if not (top / ".git").exists():
        return out  # an installed wheel: the version says it all
    try:
        commit = subprocess.run(["git", "-C", str(top), "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(top), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return out
    out.update(git_commit=commit.stdout.strip(), git_dirty=bool(dirty.stdout.strip()))
    return out


def servers(results: Sequence[DrillResult]) -> list[dict[str, Any]]:
    """Each service of each scenario: kind, version, and where it came from."""
    rows = []
    for r in results:
        for name, raw in (r.environment.get("services") or {}).items():
            svc = raw if isinstance(raw, Mapping) else {}
            rows.append({"scenario": r.scenario, "service": name,
                         "kind": svc.get("kind", name), "version": svc.get("version"),
                         "runtime": svc.get("runtime"), "binary": svc.get("binary"),
                         "image": svc.get("image"), "image_id": svc.get("image_id"),
                         "image_digests": list(svc.get("image_digests") or [])})
    return rows


def commands(results: Sequence[DrillResult],
             steps: Sequence[Sequence[Step]]) -> list[dict[str, Any]]:
    """What the drill did to the stack and how it recovered.

    Every fault, recovery, revert, backup and check step, with the command it ran (the
    team's procedures) or its mechanism (drills' own steps).
    """
    rows = []
    for r, done in zip(results, steps, strict=True):
        for s in done:
            if s.category not in RUNBOOK_CATEGORIES:
                continue
            rows.append({"scenario": r.scenario, "kind": str(s.category), "step": s.name,
                         "command": command_of(s) or None,
                         "how": redact(str(s.data.get("mechanism", ""))),
                         "started_at": iso_utc(s.start.wall), "duration_s": s.duration_s,
                         "ok": s.ok})
    return rows


def build_manifest(run_dir: Path, results: Sequence[DrillResult],
                   steps: Sequence[Sequence[Step]], meta: Mapping[str, Any],
                   plan_copy: str | None, pdf_problem: str | None,
                   pending: Mapping[str, bytes] | None = None,
                   pdf_edition: str = "condensed") -> dict[str, Any]:
    """The manifest; ``pending``: files not written yet (path -> bytes), listed as they will be.

    ``pdf_edition``: the PDF's edition (drills.evidence.pdf.Edition), condensed or full.
    """
    plan = meta.get("plan") or {}
    return {
        "schema": SCHEMA,
        "run_id": meta.get("run_id"),
        # whether the run signs this manifest: a pack that says so fails without its signature
        "signed": bool(meta.get("signed")),
        "started_at": iso_utc(meta.get("started_wall")),
        "finished_at": iso_utc(meta.get("finished_wall")),
        "operator": meta.get("operator"),
        "command": meta.get("command"),
        "plan": {"name": plan.get("name"), "path": plan.get("path"),
                 "sha256": plan.get("sha256"), "copy": plan_copy},
        "drills": drills_source(),
        "servers": servers(results),
        "commands": commands(results, steps),
        "pdf": {"file": None if pdf_problem else "report.pdf", "problem": pdf_problem,
                "edition": str(pdf_edition)},
        "files": file_entries(run_dir, pending),
    }
