"""``drill verify RUN_DIR``: checks that an evidence pack is what its run wrote.

Four checks, each saying exactly what differs: every file against its sha256 in the
manifest (changed, missing, or added after the run); the signature, with the public key
given; the plan copy against the plan's hash; every figure of summary.json recomputed
from the journals (drills.measure.evaluate), as ``drill report`` would.

Without a public key nothing proves who made the pack, but the pack must still agree with
itself: one that says it was signed (its manifest or summary says so, or its recorded
command holds ``--sign-key``) fails without its signature; a pack with no summary.json, or
none of its figures, fails; a figure the journals give that summary.json lacks is a
difference, unless a later drills than the one that wrote the pack computes it (then it is
named, not counted; the figures every evidence pack has held can never be missing).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.errors import HistoryError, UsageError
from drills.evidence.manifest import FILE_NAME, drills_source, run_files, sha256_of
from drills.evidence.signing import SIGNATURE_SUFFIX, verify_signature
from drills.measure.evaluate import evaluate
from drills.record.journal import ScenarioFiles
from drills.report.metrics import FILE_NAME as METRICS
from drills.report.metrics import metrics_text
from drills.report.summary import exit_code, run_verdict


@dataclass
class Verification:
    """What ``drill verify`` found: problems make it fail; notes are said, not failed."""

    ok_lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the signature was checked against the public key given: who made the pack is known
    authenticated: bool = False

    @property
    def passed(self) -> bool:
        return not self.problems


def _load(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise _Unreadable(f"{path.name}: {what} unreadable ({exc})") from exc


class _Unreadable(Exception):
    pass


def verify_run(run_dir: Path, public_key: Path | None = None) -> Verification:
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such run directory")
    out = Verification()
    try:
        manifest = _load(run_dir / FILE_NAME, "the manifest")
    except _Unreadable as exc:
        out.problems.append(str(exc))
        return out
    if manifest is None:
        if (run_dir / (FILE_NAME + SIGNATURE_SUFFIX)).exists():
            out.problems.append(f"{FILE_NAME}: missing, though its signature is there")
            return out
        raise UsageError(f"{run_dir}: no {FILE_NAME}; not an evidence pack (a run directory "
                         "of drills, reports/<run id>/, written by a drills with evidence "
                         "packs)")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list) or \
            not all(isinstance(f, dict) and isinstance(f.get("path"), str)
                    for f in manifest["files"]):
        out.problems.append(f"{FILE_NAME}: not a manifest of drills (no list of files with "
                            "their paths)")
        return out
    _check_run(run_dir, manifest, out)
    _check_files(run_dir, manifest, out)
    _check_signature(run_dir, manifest, public_key, out)
    _check_plan(run_dir, manifest, out)
    _check_figures(run_dir, manifest, out)
    return out


def _check_run(run_dir: Path, manifest: dict[str, Any], out: Verification) -> None:
    """Which run the pack says it is, and that its summary says the same."""
    plan = manifest.get("plan") or {}
    out.ok_lines.append(f"run {manifest.get('run_id')}, started {manifest.get('started_at')}, "
                        f"finished {manifest.get('finished_at')}, operator "
                        f"{manifest.get('operator')}, plan {plan.get('name')}")
    try:
        summary = _load(run_dir / "summary.json", "the summary")
    except _Unreadable:
        return  # said by the figures check
    if isinstance(summary, dict) and summary.get("run_id") != manifest.get("run_id"):
        out.problems.append(f"summary.json: run {summary.get('run_id')!r}, the manifest says "
                            f"{manifest.get('run_id')!r}")


def _check_files(run_dir: Path, manifest: dict[str, Any], out: Verification) -> None:
    listed = {str(f["path"]): f for f in manifest.get("files") or []}
    good = 0
    for path, entry in listed.items():
        where = run_dir / path
        if not where.is_file():
            out.problems.append(f"{path}: missing (the manifest lists it)")
            continue
        actual = sha256_of(where)
        if actual != entry.get("sha256"):
            out.problems.append(f"{path}: changed since the run: sha256 {actual}, the "
                                f"manifest says {entry.get('sha256')}")
        else:
            good += 1
    for rel in run_files(run_dir):
        if rel.as_posix() not in listed:
            out.problems.append(f"{rel.as_posix()}: not in the manifest (added after the run)")
    for top, dirs, files in os.walk(run_dir):  # a run writes regular files and directories
        for name in [*dirs, *files]:
            found = Path(top) / name
            if found.is_symlink() or not (found.is_file() or found.is_dir()):
                out.problems.append(f"{found.relative_to(run_dir).as_posix()}: a link or "
                                    "special file, which a run never writes")
    out.ok_lines.append(f"{good} of {len(listed)} files match the sha256 in {FILE_NAME}")


_SIGN_OPTIONS = ("--sign-key", "--drill-sign-key")


def said_signed(run_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Where the pack says it was signed: its manifest, its summary, its recorded command."""
    try:
        summary = _load(run_dir / "summary.json", "the summary")
    except _Unreadable:
        summary = None
    summary = summary if isinstance(summary, dict) else {}
    found = []
    for where, record in ((FILE_NAME, manifest), ("summary.json", summary)):
        if record.get("signed") is True:
            found.append(f"{where} says signed: true")
        command = str(record.get("command") or "")
        if any(option in command.split() or f"{option}=" in command
               for option in _SIGN_OPTIONS):
            found.append(f"the command {where} records holds --sign-key")
    return found


def _check_signature(run_dir: Path, manifest: dict[str, Any], public_key: Path | None,
                     out: Verification) -> None:
    path = run_dir / FILE_NAME
    sig = FILE_NAME + SIGNATURE_SUFFIX
    signed = path.with_name(sig).exists()
    claims = [] if signed else said_signed(run_dir, manifest)
    if claims:  # a pack whose own records say it was signed, without its signature
        out.problems.append(f"{sig}: missing, though the pack says it was signed "
                            f"({'; '.join(claims)}): the signature was removed or never "
                            "written, and nothing else vouches for these files")
        return
    if public_key is None:
        if signed:  # a signature nobody checked is not a pass
            out.problems.append(f"{sig}: present but not checked; "
                                "give --public-key KEY.pub (the signer's) to check it")
        else:
            out.notes.append("the pack is not signed: the files agree with each other and "
                             "with the manifest, which says nothing of who made them")
        return
    problem = verify_signature(path, public_key)
    if problem:
        out.problems.append(problem)
    else:
        out.authenticated = True
        out.ok_lines.append(f"{FILE_NAME} is signed by the key in {public_key}")


def _check_plan(run_dir: Path, manifest: dict[str, Any], out: Verification) -> None:
    plan = manifest.get("plan") or {}
    copy = plan.get("copy")
    if not copy:
        out.problems.append(f"{FILE_NAME}: names no copy of the plan")
        return
    where = run_dir / str(copy)
    if not where.is_file():
        return  # already said: missing
    actual = sha256_of(where)
    if actual != plan.get("sha256"):
        out.problems.append(f"{copy}: sha256 {actual} is not the plan's {plan.get('sha256')} "
                            "the run read")
    else:
        out.ok_lines.append(f"{copy} is the plan the run read (sha256 {actual[:16]}…)")


_ABSENT = "<absent from the file>"

#: the figures of a scenario in every summary.json since the first drills with evidence
#: packs (0.2.0, commit 70bb3c6): no pack may lack one, whichever drills wrote it
EVERY_PACK = frozenset({
    "name", "probed_service", "store_service", "runtime", "run_id", "verdict", "targets",
    "rto_s", "rto_resolution_s", "rpo_s", "acked_writes", "lost_writes", "unknown_writes",
    "probe_interval_s", "probe_interval_achieved_s", "fault_at", "rto", "rpo", "writes",
    "backups", "restore", "projection", "service_levels", "regression", "controls",
    "findings", "errors", "environment",
})


def _same_drills(manifest: dict[str, Any]) -> bool:
    """Whether the drills that wrote the pack is this one (same version and git commit)."""
    wrote = manifest.get("drills")
    if not isinstance(wrote, dict):
        return False
    here = drills_source()
    return bool(wrote.get("version") == here["version"]
                and wrote.get("git_commit") == here["git_commit"])


def _check_figures(run_dir: Path, manifest: dict[str, Any], out: Verification) -> None:
    listed = {str(f["path"]) for f in manifest.get("files") or []}
    if "summary.json" not in listed:
        out.problems.append(f"{FILE_NAME}: lists no summary.json: a pack without its figures "
                            "proves nothing (a run writes it; it was removed, or the run never "
                            "finished sealing)")
        return
    try:
        summary = _load(run_dir / "summary.json", "the summary")
    except _Unreadable as exc:
        out.problems.append(str(exc))
        return
    if summary is None:
        return  # missing: said by the file check
    entries = summary.get("scenarios") if isinstance(summary, dict) else None
    if not isinstance(entries, list) or not entries:
        out.problems.append("summary.json: no scenario, so no figure to check: a pack without "
                            "figures proves nothing")
        return
    _check_scenarios_listed(run_dir, summary, entries, out)
    same = _same_drills(manifest)
    results = []
    differences = 0
    unrecorded: set[str] = set()
    for entry in entries:
        name = str(entry.get("name") if isinstance(entry, dict) else entry)
        try:
            result = evaluate(ScenarioFiles(run_dir / name))
        except (HistoryError, OSError, KeyError, TypeError, ValueError) as exc:
            out.problems.append(f"{name}/: the figures cannot be recomputed: {exc}")
            differences += 1
            continue
        results.append(result)
        again = json.loads(json.dumps(result.to_dict()))
        for path, said, computed in _differences(entry, again, f"scenarios[{name}]"):
            figure = path.split("].", 1)[-1]
            if said == _ABSENT and not same and figure not in EVERY_PACK:
                unrecorded.add(figure)  # computed by a later drills than wrote the file
                continue
            differences += 1
            out.problems.append(f"summary.json: {path}: the file says {_short(said)}, the "
                                f"journals give {_short(computed)}")
    meta = {"planned": summary.get("planned"), "interrupted": summary.get("interrupted")}
    for key, computed in (("verdict", str(run_verdict(results, meta))),
                          ("exit_code", exit_code(results, meta))):
        if len(results) == len(entries) and summary.get(key) != computed:
            differences += 1
            out.problems.append(f"summary.json: {key}: the file says {summary.get(key)!r}, "
                                f"the journals give {computed!r}")
    if not differences:
        out.ok_lines.append(f"every figure of summary.json ({len(results)} scenario(s)) "
                            "recomputed from the journals: identical")
    if unrecorded:
        out.ok_lines.append(f"not in summary.json, so not compared (computed by a later drills "
                            f"than wrote it): {', '.join(sorted(unrecorded))}")
    _check_metrics(run_dir, listed, summary, out)


def _check_metrics(run_dir: Path, listed: set[str], summary: dict[str, Any],
                   out: Verification) -> None:
    """metrics.prom says what summary.json says (packs before it have none: nothing to say)."""
    if METRICS not in listed:
        return
    try:
        said = (run_dir / METRICS).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # missing or unreadable: said by the file check
    if said != metrics_text(summary):
        out.problems.append(f"{METRICS}: its figures are not those of summary.json")
    else:
        out.ok_lines.append(f"{METRICS}: the figures of summary.json")


def _check_scenarios_listed(run_dir: Path, summary: dict[str, Any], entries: list[Any],
                            out: Verification) -> None:
    """Every scenario the pack holds (a directory with a journal) is in summary.json.

    Among its scenarios, or among those it says gave no result (``missing``), which keep
    the run from passing.
    """
    named = {str(e.get("name")) for e in entries if isinstance(e, dict)}
    named |= {str(m) for m in summary.get("missing") or [] if isinstance(m, str)}
    for journal in sorted(run_dir.glob("*/journal.json")):
        if journal.parent.name not in named:
            out.problems.append(f"{journal.parent.name}/: a scenario of the pack (its journal "
                                "is there) that summary.json leaves out")


def _differences(said: Any, computed: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(said, dict) and isinstance(computed, dict):
        for key in sorted(set(said) | set(computed), key=str):
            yield from _differences(said.get(key, _ABSENT), computed.get(key, "<absent>"),
                                    f"{path}.{key}")
    elif isinstance(said, list) and isinstance(computed, list) and len(said) == len(computed):
        for i, (a, b) in enumerate(zip(said, computed, strict=True)):
            yield from _differences(a, b, f"{path}[{i}]")
    elif said != computed:
        yield path, said, computed


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."
