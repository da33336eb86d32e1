"""The evidence pack of a recorded run: manifest, plan copy, PDF, signature, drill verify.

The run is synthetic (tests.synthetic); ssh-keygen and WeasyPrint are the real tools.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from drills.evidence.manifest import FILE_NAME
from drills.evidence.pack import seal
from drills.evidence.pdf import Edition
from drills.evidence.verify import verify_run
from drills.measure.evaluate import evaluate
from drills.report import write_reports
from drills.report.runbook import redact
from tests.synthetic import META, make_scenario_dir


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "signer"
    path.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, capture_output=True)
    return path


def _sealed_run(tmp_path: Path, key: Path | None = None,
                edition: Edition = Edition.CONDENSED) -> Path:
    run_dir = tmp_path / "run"
    results = [evaluate(make_scenario_dir(run_dir, "pg-kill", lost=0)),
               evaluate(make_scenario_dir(run_dir, "pg-lossy", lost=4))]
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nscenarios: {}\n")
    meta = {**META, "plan": {**META["plan"], "path": str(plan),
                             "sha256": hashlib.sha256(plan.read_bytes()).hexdigest()},
            "operator": "Grace", "signed": key is not None}
    write_reports(run_dir, results, meta)
    sealed = seal(run_dir, results, meta, plan, key, pdf_edition=edition)
    assert sealed.pdf_problem is None
    return run_dir


def test_an_untouched_pack_verifies(tmp_path: Path) -> None:
    run_dir = _sealed_run(tmp_path)
    found = verify_run(run_dir)
    assert found.passed, found.problems
    manifest = json.loads((run_dir / FILE_NAME).read_text())
    listed = {f["path"] for f in manifest["files"]}
    assert {"summary.json", "index.html", "report.pdf", "runbook.md", "plan/plan.yaml",
            "pg-kill/journal.json", "pg-lossy/history.bin", "pg-lossy/readback.bin",
            "pg-lossy/ids.txt.gz"} <= listed
    assert manifest["operator"] == "Grace"
    assert manifest["drills"]["version"]
    assert [s["version"] for s in manifest["servers"]] == ["15.18", "7.0.15"] * 2
    assert (run_dir / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert any("the pack is not signed" in n for n in found.notes)
    assert not found.authenticated


@pytest.mark.parametrize("edition", list(Edition))
def test_either_edition_of_the_pdf_is_named_and_verifies(tmp_path: Path,
                                                         edition: Edition) -> None:
    run_dir = _sealed_run(tmp_path, edition=edition)
    found = verify_run(run_dir)
    assert found.passed, found.problems
    manifest = json.loads((run_dir / FILE_NAME).read_text())
    assert manifest["pdf"] == {"file": "report.pdf", "problem": None, "edition": str(edition)}
    text = subprocess.run(["pdftotext", str(run_dir / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    # the detail (every step of a drill) is in the full edition only; the verdicts in both
    assert ("All steps" in text) is (edition is Edition.FULL)
    assert "Runbook, as executed" in text and "pg-lossy" in text


@pytest.mark.parametrize("edit", ["journal", "summary", "added", "removed", "plan", "link",
                                  "manifest", "run"])
def test_one_edit_is_named(tmp_path: Path, edit: str) -> None:
    run_dir = _sealed_run(tmp_path)
    if edit == "journal":
        path = run_dir / "pg-kill" / "journal.json"
        data = bytearray(path.read_bytes())
        at = data.index(b'"rto_s": 30.0') + len('"rto_s": ')
        data[at] = ord("1")  # the target: 10.0 instead of 30.0
        path.write_bytes(bytes(data))
        expected = "pg-kill/journal.json: changed since the run"
    elif edit == "summary":
        path = run_dir / "summary.json"
        text = path.read_text()
        path.write_text(text.replace('"lost_writes": 4', '"lost_writes": 0', 1))
        expected = ("summary.json: scenarios[pg-lossy].lost_writes: the file says 0, the "
                    "journals give 4")
    elif edit == "added":
        (run_dir / "pg-kill" / "notes.txt").write_text("added later")
        expected = "pg-kill/notes.txt: not in the manifest"
    elif edit == "removed":
        (run_dir / "runbook.md").unlink()
        expected = "runbook.md: missing"
    elif edit == "plan":
        (run_dir / "plan" / "plan.yaml").write_text("version: 1\nscenarios: {x: 1}\n")
        expected = "is not the plan's"
    elif edit == "link":
        (run_dir / "pg-kill" / "extra").symlink_to(tmp_path)
        expected = "pg-kill/extra: a link or special file"
    elif edit == "manifest":
        (run_dir / FILE_NAME).write_text("[1, 2]")
        expected = "not a manifest of drills"
    else:  # another run's summary under this run's manifest
        path = run_dir / "summary.json"
        path.write_text(path.read_text().replace('"run_id": "r-test"', '"run_id": "r-other"'))
        expected = "summary.json: run 'r-other', the manifest says 'r-test'"
    found = verify_run(run_dir)
    assert not found.passed
    assert any(expected in p for p in found.problems), found.problems


def test_a_signed_pack_verifies_with_its_key_only(tmp_path: Path, key: Path) -> None:
    run_dir = _sealed_run(tmp_path, key)
    assert (run_dir / (FILE_NAME + ".sig")).read_text().startswith("-----BEGIN SSH SIGNATURE")
    found = verify_run(run_dir, key.with_suffix(".pub"))
    assert found.passed, found.problems
    assert found.authenticated
    assert any("signed by the key" in line for line in found.ok_lines)
    found = verify_run(run_dir)  # a signature nobody checked is not a pass
    assert any("present but not checked" in p for p in found.problems)
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
                   check=True, capture_output=True)
    found = verify_run(run_dir, other.with_suffix(".pub"))
    assert any("does not verify" in p for p in found.problems)
    # an edited manifest (one byte) no longer matches its signature
    manifest = run_dir / FILE_NAME
    manifest.write_text(manifest.read_text().replace('"Grace"', '"Grack"'))
    found = verify_run(run_dir, key.with_suffix(".pub"))
    assert any("does not verify" in p for p in found.problems)


def test_an_unsigned_pack_fails_when_a_key_is_given(tmp_path: Path, key: Path) -> None:
    found = verify_run(_sealed_run(tmp_path), key.with_suffix(".pub"))
    assert any("the pack is not signed" in p for p in found.problems)


def test_a_key_with_a_passphrase_is_refused_before_the_run(tmp_path: Path) -> None:
    from drills.errors import UsageError
    from drills.evidence.signing import check_private_key

    locked = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f",
                    str(locked)], check=True, capture_output=True)
    with pytest.raises(UsageError, match="passphrase"):
        check_private_key(locked)
    with pytest.raises(UsageError, match="no such file"):
        check_private_key(tmp_path / "nothing")


def test_an_interrupted_or_partial_run_never_passes(tmp_path: Path) -> None:
    from drills.measure.verdict import Verdict
    from drills.report.summary import exit_code, run_verdict

    results = [evaluate(make_scenario_dir(tmp_path / "run", "pg-kill", lost=0))]
    assert run_verdict(results, {"planned": ["pg-kill"]}) == Verdict.PASS
    assert exit_code(results, {"planned": ["pg-kill"]}) == 0
    partial = {"planned": ["pg-kill", "pg-other"]}
    assert run_verdict(results, partial) == Verdict.COULD_NOT_VERIFY
    assert exit_code(results, partial) == 1
    stopped = {"planned": ["pg-kill"], "interrupted": True}
    assert run_verdict(results, stopped) == Verdict.COULD_NOT_VERIFY
    assert exit_code(results, stopped) == 1


def test_commands_are_redacted() -> None:
    assert redact("psql postgresql://app:hunter2@db/app") == "psql postgresql://app:<redacted>@db/app"
    assert redact("redis-cli -u redis://:hunter2@db:6379") == \
        "redis-cli -u redis://:<redacted>@db:6379"
    assert redact("restore --password=hunter2 --db x") == "restore --password=<redacted> --db x"
    assert redact("mysql --db-pass hunter2 x") == "mysql --db-pass <redacted> x"
    assert redact("pg_restore --clean latest.dump") == "pg_restore --clean latest.dump"


def _reseal(run_dir: Path) -> None:
    """What a forger without the key does after an edit: the manifest's hashes rebuilt."""
    from drills.evidence.manifest import file_entries

    path = run_dir / FILE_NAME
    manifest = json.loads(path.read_text())
    manifest["files"] = file_entries(run_dir)
    path.write_text(json.dumps(manifest))


def _edit_summary(run_dir: Path, edit: Any) -> None:
    path = run_dir / "summary.json"
    summary = json.loads(path.read_text())
    edit(summary)
    path.write_text(json.dumps(summary, indent=1))


def test_a_pack_that_says_it_was_signed_fails_without_its_signature(
    tmp_path: Path, key: Path
) -> None:
    run_dir = _sealed_run(tmp_path, key)
    (run_dir / (FILE_NAME + ".sig")).unlink()
    _reseal(run_dir)
    found = verify_run(run_dir)  # before: "verified (integrity only)"
    assert not found.passed
    assert any("manifest.json.sig: missing, though the pack says it was signed" in p
               and "summary.json says signed: true" in p for p in found.problems), found.problems
    # the manifest's own word edited away: the summary still says so
    manifest = json.loads((run_dir / FILE_NAME).read_text())
    (run_dir / FILE_NAME).write_text(json.dumps({**manifest, "signed": False}))
    assert any("summary.json says signed: true" in p for p in verify_run(run_dir).problems)
    # both edited: the recorded command still holds the key option
    _edit_summary(run_dir, lambda s: s.update(signed=False,
                                              command=s["command"] + " --sign-key k"))
    _reseal(run_dir)
    found = verify_run(run_dir)
    assert any("the command summary.json records holds --sign-key" in p
               for p in found.problems), found.problems


def test_a_figure_deleted_from_the_summary_is_a_difference(tmp_path: Path) -> None:
    run_dir = _sealed_run(tmp_path)

    def drop(summary: dict[str, Any]) -> None:
        lossy = next(s for s in summary["scenarios"] if s["name"] == "pg-lossy")
        for figure in ("lost_writes", "writes", "probe_cost"):
            del lossy[figure]

    _edit_summary(run_dir, drop)
    _reseal(run_dir)
    found = verify_run(run_dir)  # before: "identical", the deleted figures "not compared"
    assert not found.passed
    for figure in ("lost_writes", "writes", "probe_cost"):
        assert any(f"summary.json: scenarios[pg-lossy].{figure}: the file says "
                   '"<absent from the file>"' in p for p in found.problems), found.problems
    # a pack from an earlier drills: a figure added since is named, not counted; one that
    # every evidence pack holds is still a difference
    manifest = json.loads((run_dir / FILE_NAME).read_text())
    manifest["drills"] = {"version": "0.1.0", "git_commit": "0" * 40, "git_dirty": False}
    (run_dir / FILE_NAME).write_text(json.dumps(manifest))
    found = verify_run(run_dir)
    assert [p for p in found.problems if "<absent" in p and "probe_cost" in p] == []
    assert any("not compared" in line and "probe_cost" in line for line in found.ok_lines)
    assert any("scenarios[pg-lossy].lost_writes" in p for p in found.problems)
    assert any("scenarios[pg-lossy].writes:" in p for p in found.problems)


def test_a_scenario_left_out_of_the_summary_is_named(tmp_path: Path) -> None:
    run_dir = _sealed_run(tmp_path)
    _edit_summary(run_dir, lambda s: s.update(
        scenarios=[e for e in s["scenarios"] if e["name"] != "pg-lossy"], planned=["pg-kill"],
        verdict="pass", exit_code=0))
    _reseal(run_dir)
    found = verify_run(run_dir)
    assert any("pg-lossy/: a scenario of the pack (its journal is there) that summary.json "
               "leaves out" in p for p in found.problems), found.problems


@pytest.mark.parametrize("how", ["unlisted", "empty"])
def test_a_pack_without_figures_fails(tmp_path: Path, how: str) -> None:
    run_dir = _sealed_run(tmp_path)
    if how == "unlisted":
        (run_dir / "summary.json").unlink()
        expected = "manifest.json: lists no summary.json"
    else:
        _edit_summary(run_dir, lambda s: s.update(scenarios=[]))
        expected = "summary.json: no scenario"
    _reseal(run_dir)
    found = verify_run(run_dir)  # before: verified
    assert not found.passed
    assert any(expected in p for p in found.problems), found.problems


def test_the_reports_are_written_only_once_the_pack_is_sealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drills.evidence import pack
    from drills.report import render_reports

    run_dir = tmp_path / "run"
    results = [evaluate(make_scenario_dir(run_dir, "pg-kill", lost=0))]
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\nscenarios: {}\n")
    meta = {**META, "plan": {**META["plan"], "path": str(plan),
                             "sha256": hashlib.sha256(plan.read_bytes()).hexdigest()}}
    rendered = render_reports(run_dir, results, meta)
    assert set(rendered.files) == {"index.html", "runbook.md", "summary.json", "junit.xml",
                                   "metrics.prom"}
    assert not any((run_dir / name).exists() for name in rendered.files)

    def killed(*args: Any) -> None:  # the run dies while sealing, as by SIGKILL
        raise SystemExit(9)

    monkeypatch.setattr(pack, "build_manifest", killed)
    with pytest.raises(SystemExit):
        pack.seal(run_dir, results, meta, plan, None, None, rendered.files)
    left = {p.name for p in run_dir.iterdir()}
    assert not left & {"index.html", "runbook.md", "summary.json", "junit.xml",
                       "metrics.prom", "report.pdf"}, left
    monkeypatch.undo()
    pack.seal(run_dir, results, meta, plan, None, None, rendered.files)
    assert json.loads((run_dir / "summary.json").read_text())["verdict"] == "pass"
    assert (run_dir / "report.pdf").read_bytes().startswith(b"%PDF-")  # from the page's bytes
    assert not list(run_dir.glob("*.tmp"))
    found = verify_run(run_dir)
    assert found.passed, found.problems


def test_metrics_prom_must_say_what_the_summary_says(tmp_path: Path) -> None:
    run_dir = _sealed_run(tmp_path)
    assert any(line == "metrics.prom: the figures of summary.json"
               for line in verify_run(run_dir).ok_lines)
    path = run_dir / "metrics.prom"
    text = path.read_text()
    sample = 'drills_lost_writes{plan="test plan",scenario="pg-lossy",runtime="local"}'
    assert f"{sample} 4\n" in text
    path.write_text(text.replace(f"{sample} 4\n", f"{sample} 0\n"))  # a dashboard told 0
    _reseal(run_dir)
    found = verify_run(run_dir)
    assert not found.passed
    assert "metrics.prom: its figures are not those of summary.json" in found.problems
