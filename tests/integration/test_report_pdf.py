"""The auditor's PDF of a run as large as the default plan's: the condensed edition.

37 scenarios built from the drills recorded in fixtures/recorded (tests.recorded_run),
rendered by WeasyPrint as ``drill run`` does; pdfinfo counts the pages and pdftotext reads
each one. The full edition and the manifest's record of the edition are checked on a small
run in tests/unit/test_evidence_pack.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from drills.evidence.pdf import Edition, write_pdf
from drills.report import write_reports
from tests.recorded_run import DEFAULT_PLAN_SCENARIOS, recorded_run
from tests.synthetic import META

pytestmark = pytest.mark.slow  # about a minute: 37 charts drawn, then laid out

MAX_PAGES = 30
#: the footer every page carries (the report's @page rule), left out when reading a page
_FOOTER = re.compile(r"^drills run \S+ · page \d+ of \d+$")


@pytest.fixture(scope="module")
def condensed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("pdf") / "run"
    paths = write_reports(run_dir, recorded_run(run_dir, DEFAULT_PLAN_SCENARIOS), META)
    pdf = run_dir / "report.pdf"
    assert write_pdf(paths.html, pdf, Edition.CONDENSED) is None
    return pdf


def pages_of(pdf: Path) -> list[list[str]]:
    """Each page's lines of text, its footer left out."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [[line.strip() for line in page.splitlines()
             if line.strip() and not _FOOTER.match(line.strip())]
            for page in text.split("\f")[:-1]]  # the text ends with a form feed


def lone_headings(pages: list[list[str]]) -> list[int]:
    """The pages (from 1) whose whole text is one short line: a heading left alone."""
    return [n for n, lines in enumerate(pages, 1) if len(lines) <= 1
            and len(" ".join(lines)) < 80]


def test_the_condensed_pdf_of_37_scenarios_fits_in_30_pages(condensed: Path) -> None:
    info = subprocess.run(["pdfinfo", str(condensed)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))  # type: ignore[union-attr]
    assert pages <= MAX_PAGES
    assert pages == len(pages_of(condensed))


def test_no_page_holds_only_a_heading(condensed: Path) -> None:
    pages = pages_of(condensed)
    assert lone_headings(pages) == []
    # the check can fail: a page with only a scenario's heading is caught
    assert lone_headings([*pages, ["Scenario postgres-kill ✓ pass"]]) == [len(pages) + 1]


def test_each_scenario_has_its_verdict_rows_and_its_timeline(condensed: Path) -> None:
    text = "\n".join("\n".join(lines) for lines in pages_of(condensed))
    names = re.findall(r"^Scenario (\S+)$", text, re.M)
    assert len(names) == len(set(names)) == DEFAULT_PLAN_SCENARIOS
    flat = " ".join(text.split())
    assert flat.count("x: seconds relative to the fault start") == DEFAULT_PLAN_SCENARIOS
    # the charts are drawn, not only captioned: an image WeasyPrint cannot read is dropped
    # without a word, and each timeline's panels label their axis
    assert flat.count("operations per second") >= DEFAULT_PLAN_SCENARIOS
    assert text.count("Runbook, as executed") == DEFAULT_PLAN_SCENARIOS
    assert text.count("Trend across drills") == DEFAULT_PLAN_SCENARIOS
    # the detail is left out: it stays in index.html and the full edition
    assert "All steps" not in text and "Environment" not in text
    assert text.index("Summary") < text.index("Controls evidenced") < text.index("Scenario ")
