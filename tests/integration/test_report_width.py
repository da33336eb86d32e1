"""The HTML report, read as a stakeholder reads it: a 1280x800 window, no sideways scroll.

The report is rendered from the drills recorded in fixtures/recorded (tests.recorded_run:
real charts, runbooks, long facts, ids and hashes) and opened in headless Chromium. One
line appended to a copy of the page writes ``document.documentElement.scrollWidth`` into
its title, which ``--dump-dom`` returns.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from drills.report import write_reports
from tests.integration.conftest import chromium
from tests.recorded_run import RECORDED, recorded_run
from tests.synthetic import META

WINDOW = (1280, 800)
_PROBE = '<script>document.title = "SW=" + document.documentElement.scrollWidth</script>'


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("width") / "run"
    drills = len([p for p in RECORDED.iterdir() if (p / "journal.json").is_file()])
    results = recorded_run(run_dir, drills + 2)  # each recorded drill, two of them twice
    return write_reports(run_dir, results, META).html


def scroll_width(page: Path, html: str | None = None) -> int:
    """The page's width in a browser window of WINDOW, in CSS pixels."""
    probe = page.with_name("width-probe.html")
    probe.write_text((html if html is not None else page.read_text(encoding="utf-8"))
                     + _PROBE, encoding="utf-8")
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", f"--window-size={WINDOW[0]},{WINDOW[1]}",
         "--virtual-time-budget=2000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=True)
    found = re.search(r"<title>SW=(\d+)</title>", done.stdout)
    assert found, done.stdout[:2000] + done.stderr[-2000:]
    return int(found.group(1))


def test_the_report_fits_a_1280_window(report: Path) -> None:
    assert scroll_width(report) <= WINDOW[0]


def test_the_summary_comes_first_with_a_bar_per_figure(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    summary = html[html.index('<section id="summary">'):]
    summary = summary[:summary.index("</section>")]
    assert html.index('<section id="summary">') < html.index('<section id="run">')
    rows = re.findall(r'<tr class="summary-row">(.*?)</tr>', summary, re.S)
    assert len(rows) == len(re.findall(r'<section class="scenario"', html)) > 7
    for row in rows:  # RTO and RPO, each a bar with its target marked where one is set
        assert row.count('<div class="bar bar-') == 2, row


def test_the_check_catches_a_page_wider_than_the_window(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    wide = html.replace('<section id="run">',
                        '<section id="run"><table><tr><td style="white-space:nowrap">'
                        + "x" * 400 + "</td></tr></table>", 1)
    assert scroll_width(report, wide) > WINDOW[0]
