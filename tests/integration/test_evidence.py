"""Evidence for auditors, end to end on real servers (local runtime).

Three runs of the default plan's postgres-freeze and postgres-kill in one reports
directory, then a fourth whose freeze is made longer than the runs before: it must fail
its regression limit while still under its RTO target. The signed pack of the third run
verifies, and stops verifying after one byte of it changes; the PDF holds the summary
and the charts; the HTML report renders in a real browser (headless Chromium).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drills.plan import default_plan_path
from tests.integration.conftest import REPO, chromium, drill_cli

pytestmark = pytest.mark.slow

SCENARIOS = ("postgres-freeze", "postgres-kill")
#: where the browser's screenshot of the report is kept with the test output
SCREENSHOT_DIR = REPO / "build" / "test-output"


@dataclass(frozen=True)
class Runs:
    out: Path
    dirs: tuple[Path, ...]  # oldest first; the last is the slowed-down run
    codes: tuple[int, ...]
    public_key: Path
    private_key: Path


def _summary(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return data


def _scenario(run_dir: Path, name: str) -> dict[str, Any]:
    return next(s for s in _summary(run_dir)["scenarios"] if s["name"] == name)


def _run(out: Path, run_id: str, plan: Path, *extra: str) -> int:
    args = ["run", "--plan", str(plan), "--out", str(out), "--runtime", "local",
            "--run-id", run_id, *extra]
    for name in SCENARIOS:
        args += ["--scenario", name]
    done = drill_cli(*args, timeout=300)
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    return done.returncode


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = tmp_path_factory.mktemp("evidence")
    key = root / "signing"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "drills-test",
                    "-f", str(key)], check=True, capture_output=True)
    out = root / "reports"
    default = default_plan_path()
    codes = [_run(out, f"run-{i}", default, "--operator", "Ada Auditor",
                  *(["--sign-key", str(key)] if i == 3 else [])) for i in (1, 2, 3)]
    # The same plan (same name), its freeze twice as long: still far under the 10 s target.
    slow = root / "slow-plan.yaml"
    text = default.read_text()
    assert "params: {freeze_s: 3}" in text
    slow.write_text(text.replace("params: {freeze_s: 3}", "params: {freeze_s: 6}"))
    codes.append(_run(out, "run-4", slow))
    yield Runs(out, tuple(out / f"run-{i}" for i in (1, 2, 3, 4)), tuple(codes),
               key.with_suffix(".pub"), key)


def test_three_runs_make_a_trend_of_three_points_per_scenario(runs: Runs) -> None:
    assert runs.codes[:3] == (0, 0, 0), [_summary(d)["verdict"] for d in runs.dirs[:3]]
    trends = json.loads((runs.dirs[2] / "trends.json").read_text())["scenarios"]
    for name in SCENARIOS:
        points = trends[name]
        assert [p["run_id"] for p in points] == ["run-1", "run-2", "run-3"]
        assert all(p["rto_s"] is not None and p["verdict"] == "pass" for p in points)
        assert [p["rto_s"] for p in points] == [_scenario(d, name)["rto_s"]
                                                for d in runs.dirs[:3]]
    html = (runs.dirs[2] / "index.html").read_text()
    assert html.count('<figure class="trend">') == len(SCENARIOS)
    # one marker per run in each of the two panels (RTO, RPO window) of each chart
    for chart in re.findall(r'<figure class="trend">(.*?)</figure>', html, re.S):
        assert "across 3 run(s)" in chart
    assert (runs.out / "drills-runs.sqlite").is_file()


def test_a_longer_freeze_fails_its_regression_limit_under_its_target(runs: Runs) -> None:
    assert runs.codes[3] == 1
    freeze = _scenario(runs.dirs[3], "postgres-freeze")
    rows = {t["key"]: t for t in freeze["targets"]}
    assert rows["rto_s"]["verdict"] == "pass", rows["rto_s"]  # under the 10 s target
    assert rows["regression.rto_s"]["verdict"] == "fail", rows["regression.rto_s"]
    medians = sorted(_scenario(d, "postgres-freeze")["rto_s"] for d in runs.dirs[:3])
    assert rows["regression.rto_s"]["target_value"] == pytest.approx(
        max(medians[1] * 1.5, medians[1] + 2.0))
    assert freeze["verdict"] == "fail"
    assert [f["code"] for f in freeze["findings"]].count("REGRESSION") == 1
    baseline = freeze["regression"]["baseline"]
    assert [r["run_id"] for r in baseline["runs"]] == ["run-1", "run-2", "run-3"]
    # the report says the baseline was drilled with a shorter freeze than this run
    assert "3 of them (run-1, run-2, run-3) were drilled with other settings" in \
        freeze["regression"]["note"]
    # the kill scenario of the same run is not slower: its regression row passes
    kill = {t["key"]: t for t in _scenario(runs.dirs[3], "postgres-kill")["targets"]}
    assert kill["regression.rto_s"]["verdict"] == "pass"


def test_first_run_says_regression_is_not_yet_judged(runs: Runs) -> None:
    first = _scenario(runs.dirs[0], "postgres-freeze")
    assert not any(t["key"].startswith("regression.") for t in first["targets"])
    assert "first judged on the next run" in first["regression"]["note"]


def test_signed_pack_verifies_and_names_what_was_edited(runs: Runs, tmp_path: Path) -> None:
    signed = runs.dirs[2]
    done = drill_cli("verify", str(signed), "--public-key", str(runs.public_key))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "signed by the key" in done.stdout and "identical" in done.stdout
    manifest = json.loads((signed / "manifest.json").read_text())
    assert manifest["operator"] == "Ada Auditor"
    assert manifest["plan"]["sha256"] == _summary(signed)["plan"]["sha256"]
    assert any(c["step"] == "freeze postgres" and c["how"] for c in manifest["commands"])
    assert {s["kind"] for s in manifest["servers"]} == {"postgres"}
    assert all(s["version"] for s in manifest["servers"])
    assert manifest["pdf"]["problem"] is None

    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
                   check=True, capture_output=True)
    done = drill_cli("verify", str(signed), "--public-key", str(other.with_suffix(".pub")))
    assert done.returncode == 1 and "does not verify" in done.stdout

    # one byte of a journal
    copy = tmp_path / "journal-edited"
    shutil.copytree(signed, copy)
    journal = copy / "postgres-freeze" / "journal.json"
    data = bytearray(journal.read_bytes())
    at = data.index(b'"run_id": "run-3"') + len('"run_id": "run-')
    data[at] = ord("7")
    journal.write_bytes(bytes(data))
    done = drill_cli("verify", str(copy), "--public-key", str(runs.public_key))
    assert done.returncode == 1
    assert "FAIL  postgres-freeze/journal.json: changed since the run" in done.stdout
    assert "signed by the key" in done.stdout  # the manifest itself is untouched

    # one byte of summary.json: a digit of a figure
    copy = tmp_path / "summary-edited"
    shutil.copytree(signed, copy)
    summary = copy / "summary.json"
    text = summary.read_text()
    match = re.search(r'"rto_s": (\d)\.', text)
    assert match is not None
    digit = "8" if match.group(1) != "8" else "9"
    summary.write_text(text[:match.start(1)] + digit + text[match.end(1):])
    done = drill_cli("verify", str(copy))
    assert done.returncode == 1
    assert "FAIL  summary.json: changed since the run" in done.stdout
    assert re.search(r"FAIL  summary.json: scenarios\[postgres-[a-z]+\]\.rto_s: the file says "
                     rf"{digit}\.", done.stdout), done.stdout
    assert "present but not checked" in done.stdout  # no key given: said, not passed


def test_pdf_holds_the_summary_table_and_the_charts(runs: Runs, tmp_path: Path) -> None:
    pdf = runs.dirs[3] / "report.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    summary = text[text.index("Summary"):text.index("Controls evidenced")]
    for name in ("RTO", "RPO", "lost", "verdict", "change since"):
        assert name in summary
    for name in SCENARIOS:  # each row: the RTO measured, the change since run-3
        rto = _scenario(runs.dirs[3], name)["rto_s"]
        assert f"{rto:.3f} s" in summary
    assert summary.count("run-3)") == len(SCENARIOS)
    assert "✗ fail" in summary and "✓ pass" in summary
    # the page with the freeze drill's trend chart, as an image: the chart's markers drawn
    pages = text.split("\f")
    page = next(i for i, p in enumerate(pages, 1) if "RTO (s) across 4 run(s)" in p)
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(page), "-l", str(page),
                    str(pdf), str(png)], check=True)
    image = next(tmp_path.glob("page*.png"))
    from PIL import Image  # matplotlib's own dependency

    colours = Image.open(image).convert("RGB").getcolors(maxcolors=1 << 20) or []
    assert _near(colours, (0x2E, 0x7D, 0x32)) > 20  # green markers: the passing runs
    assert _near(colours, (0xC6, 0x28, 0x28)) > 20  # red: this run's marker, the target line


def _near(colours: list[tuple[int, tuple[int, int, int]]], rgb: tuple[int, int, int]) -> int:
    return sum(n for n, c in colours if all(abs(a - b) <= 24 for a, b in zip(c, rgb,
                                                                             strict=True)))


def _open_in_chromium(page: Path, screenshot: Path) -> tuple[str, list[str]]:
    """The page's DOM after loading, and every message it wrote to the browser's console."""
    common = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
              "--v=0", "--no-first-run", "--disable-extensions"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True)
    shot = subprocess.run([*common, "--window-size=1400,2400", f"--screenshot={screenshot}",
                           page.as_uri()], capture_output=True, text=True, timeout=120,
                          check=True)
    console = [line for line in (dom.stderr + shot.stderr).splitlines() if ":CONSOLE" in line]
    return dom.stdout, console


def test_report_renders_in_chromium_without_console_errors(runs: Runs, tmp_path: Path) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOT_DIR / "evidence-report.png"
    dom, console = _open_in_chromium(runs.dirs[3] / "index.html", screenshot)
    assert console == []
    assert screenshot.stat().st_size > 10_000
    summary = dom[dom.index('<section id="summary">'):]
    summary = summary[:summary.index("</section>")]
    assert summary.count('class="summary-row"') == len(SCENARIOS)
    for name in SCENARIOS:
        assert f'<section class="scenario" id="s-{name}">' in dom
    assert '<section id="controls">' in dom and "ISO27001:A.5.30" in dom
    # the check can fail: the same page with a script error is caught
    broken = tmp_path / "broken.html"
    broken.write_text((runs.dirs[3] / "index.html").read_text().replace(
        "</body>", "<script>console.error('drills test: broken'); nope();</script></body>"))
    _, console = _open_in_chromium(broken, tmp_path / "broken.png")
    assert any("drills test: broken" in line for line in console)
    assert any("nope is not defined" in line for line in console)


def test_runbook_lists_the_steps_with_their_measured_times(runs: Runs) -> None:
    runbook = (runs.dirs[3] / "runbook.md").read_text()
    freeze = runbook[runbook.index("## postgres-freeze"):runbook.index("## postgres-kill")]
    assert "| 1 | fault | freeze postgres | SIGSTOP" in freeze
    assert "| 2 | revert | thaw postgres | SIGCONT" in freeze
    assert re.search(r"\| \+6\.0\d\d s \|", freeze), freeze  # the thaw, 6 s after the fault


def test_report_refuses_to_rewrite_a_sealed_pack(runs: Runs) -> None:
    done = drill_cli("report", str(runs.dirs[0]))
    assert done.returncode == 2 and "sealed evidence pack" in done.stderr
