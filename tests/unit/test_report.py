"""Reports rendered from synthetic scenario directories: summary.json, junit.xml, index.html."""

from __future__ import annotations

import io
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from drills.measure.bins import MAX_BINS, BinsScan, bin_width
from drills.measure.evaluate import DrillResult, evaluate
from drills.measure.verdict import Verdict
from drills.record.history import Op, Outcome, ops_table
from drills.record.journal import ScenarioFiles
from drills.report import ReportPaths, write_reports
from tests.synthetic import KILL_MECHANISM, META, SECRET, make_scenario_dir


def _run(tmp_path: Path, *specs: dict[str, Any]) -> tuple[list[DrillResult], ReportPaths]:
    run_dir = tmp_path / "run"
    results = [evaluate(make_scenario_dir(run_dir, **spec)) for spec in specs]
    return results, write_reports(run_dir, results, META)


PASSING: dict[str, Any] = {"name": "pg-pass", "lost": 0}
FAILING: dict[str, Any] = {"name": "pg-lossy", "lost": 5}
UNVERIFIED: dict[str, Any] = {"name": "pg-no-readback", "lost": 0, "readback": False}


def _summary(paths: ReportPaths) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.summary.read_text(encoding="utf-8"))
    return data


def test_synthetic_scenarios_get_the_intended_verdicts(tmp_path: Path) -> None:
    results, _ = _run(tmp_path, PASSING, FAILING, UNVERIFIED)
    assert [r.verdict for r in results] == [Verdict.PASS, Verdict.FAIL, Verdict.COULD_NOT_VERIFY]
    assert results[1].writes is not None and len(results[1].writes.lost) == 5
    assert results[0].rto is not None and results[0].rto.seconds == pytest.approx(1.61)


def test_summary_of_a_passing_run(tmp_path: Path) -> None:
    _, paths = _run(tmp_path, PASSING)
    summary = _summary(paths)
    assert summary["schema"] == 2
    assert summary["verdict"] == "pass"
    assert summary["exit_code"] == 0
    assert summary["run_id"] == "r-test" and summary["runtime"] == "local"
    assert summary["plan"]["sha256"] == "ab" * 32
    assert summary["started_at"] == "2025-11-21T04:40:00.000Z"
    assert summary["finished_at"] == "2025-11-21T04:40:20.000Z"
    entry = summary["scenarios"][0]
    for key in ("name", "runtime", "verdict", "targets", "rto_s", "rpo_s", "acked_writes",
                "lost_writes", "unknown_writes", "probe_interval_s"):
        assert key in entry
    assert entry["name"] == "pg-pass" and entry["lost_writes"] == 0
    assert entry["rto_s"] == pytest.approx(1.61)


@pytest.mark.parametrize(
    ("specs", "verdict"),
    [
        ((FAILING,), "fail"),
        ((UNVERIFIED,), "could not verify"),
        ((PASSING, UNVERIFIED), "could not verify"),
        ((PASSING, UNVERIFIED, FAILING), "fail"),
        ((), "could not verify"),
    ],
)
def test_summary_verdict_order_and_exit_code(
    tmp_path: Path, specs: tuple[dict[str, Any], ...], verdict: str
) -> None:
    _, paths = _run(tmp_path, *specs)
    summary = _summary(paths)
    assert summary["verdict"] == verdict
    assert summary["exit_code"] == 1
    assert [s["name"] for s in summary["scenarios"]] == [s["name"] for s in specs]


def test_junit_marks_fail_and_could_not_verify(tmp_path: Path) -> None:
    _, paths = _run(tmp_path, PASSING, FAILING, UNVERIFIED)
    root = ET.parse(paths.junit).getroot()
    suites = root.findall("testsuite") if root.tag == "testsuites" else [root]
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == "drills"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"pg-pass", "pg-lossy", "pg-no-readback"}
    assert all(c.get("classname") == "drills.local" for c in cases.values())
    # The journal runs from t = 0 to the conclusion at 14.3 s.
    assert float(cases["pg-pass"].get("time", "0")) == pytest.approx(14.3, abs=0.001)

    passed = cases["pg-pass"]
    assert passed.find("failure") is None and passed.find("error") is None

    failure = cases["pg-lossy"].find("failure")
    assert failure is not None and cases["pg-lossy"].find("error") is None
    message = failure.get("message", "")
    assert "lost acknowledged writes: measured 5 of" in message
    assert "target <= 0" in message
    assert "RPO window" in message  # both failed targets are listed
    assert "RTO:" not in message  # the passing RTO is not

    error = cases["pg-no-readback"].find("error")
    assert error is not None and cases["pg-no-readback"].find("failure") is None
    assert error.get("type") == "could-not-verify"
    assert "never read back" in error.get("message", "")

    props = {p.get("name"): p.get("value")
             for p in cases["pg-lossy"].findall("properties/property")}
    assert props["lost_writes"] == "5"
    assert props["rpo_s"] is not None and float(props["rpo_s"]) > 0
    assert float(props["rto_s"] or "nan") == pytest.approx(1.61)
    no_readback = {p.get("name"): p.get("value")
                   for p in cases["pg-no-readback"].findall("properties/property")}
    assert no_readback["lost_writes"] == "n/a"


def test_html_is_one_self_contained_file(tmp_path: Path) -> None:
    _, paths = _run(tmp_path, PASSING, FAILING)
    html = paths.html.read_text(encoding="utf-8")
    assert html.count("<svg") == 2
    without_ns = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", html)
    assert "http://" not in without_ns and "https://" not in without_ns
    assert "<link" not in html and "<img" not in html and "@import" not in html
    assert "<script" not in html.lower()


def test_html_verdict_table_has_a_row_per_target(tmp_path: Path) -> None:
    results, paths = _run(tmp_path, PASSING, FAILING)
    html = paths.html.read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="verdict-row">(.*?)</tr>', html, re.S)
    # each: RTO, its loss rows (RPO or lost writes, and lost after the fault began), integrity
    assert len(rows) == sum(len(r.checks) for r in results) == 10
    lost_row = next(r for r in rows if "pg-lossy" in r and "lost acknowledged writes" in r)
    assert "5 of" in lost_row and 'class="fail"' in lost_row and "fail</span>" in lost_row
    assert html.index('id="verdicts"') < html.index("<svg")  # the verdict table comes first


def test_html_shows_figures_versions_and_hides_passwords(tmp_path: Path) -> None:
    results, paths = _run(tmp_path, FAILING)
    html = paths.html.read_text(encoding="utf-8")
    writes = results[0].writes
    assert writes is not None
    assert writes.lost.ranges_text(5) in html  # the lost ids, as ranges
    assert "PostgreSQL 15.18" in html and "Redis 7.0.15" in html
    assert "0.100 s configured" in html  # rule 6: the probe interval is stated
    assert "recovery: restart postgres" in html  # an RTO phase
    assert "ACKED_WRITES_LOST" in html
    assert SECRET not in html
    assert META["command"] in html and "ab" * 32 in html
    assert "journal.json" in html.split("<footer>")[1]


def test_html_escapes_scenario_errors(tmp_path: Path) -> None:
    _, paths = _run(tmp_path, {"name": "pg-err", "error": "<script>alert('x')</script>"})
    html = paths.html.read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;script&gt;" in paths.junit.read_text(encoding="utf-8")


def test_missing_records_still_render(tmp_path: Path) -> None:
    results, paths = _run(
        tmp_path,
        {"name": "no-history", "history": False, "probes": False, "readback": False},
        {"name": "empty-history", "lost": 0},
    )
    (tmp_path / "run" / "empty-history" / "history.bin").write_bytes(b"")
    results[1] = evaluate(ScenarioFiles(tmp_path / "run" / "empty-history"))
    paths = write_reports(tmp_path / "run", results, META)
    assert results[0].rto is None and results[0].writes is None
    html = paths.html.read_text(encoding="utf-8")
    assert "<svg" not in html
    assert "n/a: no op history was recorded" in html
    assert "n/a: the op history is empty" in html
    assert "RTO: n/a" in html and "no probe record was saved" in html
    assert "write check: n/a" in html
    verdicts = [s["verdict"] for s in _summary(paths)["scenarios"]]
    # The read-back still holds rows the (now empty) history never wrote: unexpected.
    assert verdicts == ["could not verify", "fail"]


def test_bins_count_outcomes_and_p99(tmp_path: Path) -> None:
    ops = [Op(i, "write", "v", 0.01 * i, 0.0, Outcome.OK, 0.01 * i + 0.002) for i in range(5)]
    ops.append(Op(9, "write", "v", 0.03, 0.0, Outcome.OK, 0.09))  # slow: 60 ms
    ops.append(Op(10, "write", "v", 0.25, 0.0, Outcome.UNKNOWN))
    ops.append(Op(11, "write", "v", 0.26, 0.0, Outcome.FAIL, 0.27))
    scanner = BinsScan(t0=0.0, width_s=0.1)
    scanner.add(ops_table(ops), None)
    bins = scanner.finish()
    assert bins.start_s == pytest.approx((0.0, 0.1, 0.2))
    assert bins.acked_per_s == pytest.approx((60.0, 0.0, 0.0))
    assert bins.bad_per_s == pytest.approx((0.0, 0.0, 20.0))
    assert bins.p99_ms[0] == pytest.approx(60.0)  # the slowest of 6: exact
    assert bins.p99_ms[1:] == (None, None)
    assert bins.operations == 8


def test_bin_p99_is_within_three_percent_of_the_exact_figure() -> None:
    latencies = [0.5 + 0.37 * i for i in range(1000)]  # ms, in one bin
    ops = [Op(i, "write", "v", 1.0, 0.0, Outcome.OK, 1.0 + ms / 1000)
           for i, ms in enumerate(latencies)]
    ops.append(Op(5000, "write", "v", 1.0, 0.0, Outcome.OK, 1.0 + 5.0))  # one slow outlier
    scanner = BinsScan(t0=0.0, width_s=100.0)
    scanner.add(ops_table(ops), None)
    exact = sorted([*latencies, 5000.0])[math.ceil(0.99 * 1001) - 1]
    p99 = scanner.finish().p99_ms[0]
    assert p99 is not None and exact <= p99 <= exact * 1.03


def test_bin_width_keeps_long_drills_under_the_cap() -> None:
    assert bin_width(60.0) == 0.1
    assert bin_width(3600.0) == 2.0
    assert 3600 / bin_width(3600.0) <= MAX_BINS


def test_html_lists_each_step_with_its_mechanism(tmp_path: Path) -> None:
    _, paths = _run(tmp_path, PASSING)
    html = paths.html.read_text(encoding="utf-8")
    steps = html[html.index("<h3>All steps</h3>"):html.index("<h3>Recovery time (RTO)</h3>")]
    assert KILL_MECHANISM in steps
    assert "restart postgres" in steps and "+0.000 s" in steps


def _families(text: str, parser: str) -> dict[str, Any]:
    if parser == "openmetrics":
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
    else:
        from prometheus_client.parser import text_string_to_metric_families
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.mark.parametrize("parser", ["prometheus", "openmetrics"])
def test_metrics_prom_parses_and_holds_the_figures(tmp_path: Path, parser: str) -> None:
    results, paths = _run(tmp_path, PASSING, FAILING, UNVERIFIED)
    text = (paths.summary.parent / "metrics.prom").read_text(encoding="utf-8")
    assert text.endswith("# EOF\n")
    families = _families(text, parser)
    # the openmetrics parser names a family without _info, the older one keeps the name
    info = families.get("drills_run_info") or families["drills_run"]
    assert info.samples[0].labels["run_id"] == "r-test"

    def value(family: str, scenario: str, **more: str) -> float | None:
        found = [s.value for s in families[family].samples
                 if s.labels.get("scenario") == scenario
                 and all(s.labels.get(k) == v for k, v in more.items())]
        assert len(found) <= 1
        return found[0] if found else None

    for result in results:
        labels = {"plan": "test plan", "runtime": "local"}
        sample = next(s for s in families["drills_lost_writes"].samples
                      if s.labels["scenario"] == result.scenario) \
            if result.writes is not None else None
        if sample is not None:
            assert {k: sample.labels[k] for k in labels} == labels
        states = {v.value: value("drills_scenario_verdict", result.scenario, verdict=v.value)
                  for v in Verdict}
        assert states == {v.value: float(v == result.verdict) for v in Verdict}
    assert value("drills_lost_writes", "pg-lossy") == 5
    assert value("drills_lost_writes", "pg-pass") == 0
    assert value("drills_rto_seconds", "pg-pass") == pytest.approx(1.61)
    rto_row = next(c for c in results[0].checks if c.key == "rto_s")
    assert rto_row.target_value is not None
    assert value("drills_rto_target_seconds", "pg-pass") == rto_row.target_value
    assert value("drills_lost_writes", "pg-no-readback") is None  # not measured: no sample
    exit_codes = [s.value for s in families["drills_run_exit_code"].samples]
    assert exit_codes == [1]


def test_metrics_prom_never_calls_a_bound_a_value() -> None:
    """Rule 13: a censored RPO window is a lower bound, published under its own name."""
    from drills.report.metrics import metrics_text

    def entry(name: str, censored: bool) -> dict[str, Any]:
        return {"name": name, "verdict": "pass", "rpo_s": 4.2, "rto_s": 0.0,
                "rto_resolution_s": 0.05, "rpo": {"window_censored": censored}}

    summary = {"plan": {"name": "p"}, "runtime": "local", "run_id": "r", "verdict": "pass",
               "exit_code": 0, "scenarios": [entry("exact", False), entry("bounded", True)]}
    families = _families(metrics_text(summary), "prometheus")

    def scenarios(family: str) -> dict[str, float]:
        return {s.labels["scenario"]: s.value for s in families[family].samples}

    assert scenarios("drills_rpo_seconds") == {"exact": 4.2}
    assert scenarios("drills_rpo_lower_bound_seconds") == {"bounded": 4.2}
    assert scenarios("drills_rto_resolution_seconds") == {"exact": 0.05, "bounded": 0.05}


def test_summary_bars_draw_each_figure_against_its_target() -> None:
    from drills.report.summary_view import bar

    half = bar(5.0, 10.0, verdict=Verdict.PASS)  # the larger of the two ends at 80 %
    assert (half.figure, half.fill, half.mark, half.bound) == ("5.000 s", 40.0, 80.0, False)
    over = bar(20.0, 10.0, verdict=Verdict.FAIL)
    assert (over.fill, over.mark) == (80.0, 40.0)
    assert bar(None, 10.0).figure == "n/a" and bar(None, 10.0).fill == 0
    assert bar(3.0, None).mark is None  # no target set: no mark
    assert bar(0.0, 0.0).fill == 0.0 == bar(0.0, 0.0).mark
    assert bar(9.0, 60.0, bound=True).figure == "≥ 9.000 s"  # rule 13: a bound, never a value


def test_summary_shows_a_censored_rpo_as_a_bound(tmp_path: Path) -> None:
    _, paths = _run(tmp_path, {"name": "pg-all-lost", "lost": 1000,
                               "targets": {"rto_s": 30.0, "rpo_s": 60.0}})
    html = paths.html.read_text(encoding="utf-8")
    row = re.findall(r'<tr class="summary-row">(.*?)</tr>', html, re.S)[0]
    assert "<strong>≥ 8.996 s</strong>" in row and 'class="open"' in row
    assert "<strong>8.996 s</strong>" not in row
    assert "<strong>1.610 s</strong>" in row and row.count('class="mark"') == 2


def test_the_latency_line_marks_only_the_bins_it_cannot_draw() -> None:
    from drills.report.charts import isolated

    nan = math.nan
    assert isolated([1.0, 2.0, 3.0]) == []
    assert isolated([1.0, nan, 2.0, nan, nan, 3.0, 4.0]) == [0, 2]
    assert isolated([nan, 5.0]) == [1]
    assert isolated([]) == []


def test_a_chart_loses_only_its_empty_groups() -> None:
    """matplotlib's id-only <g> wrappers go; every mark stays, and the text is stable."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from drills.report.svg import figure_svg

    fig = Figure(figsize=(4, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 3, 2], label="ops/s")
    ax.set_title("a & b < c")
    ax.legend()
    svg = figure_svg(fig, "t")
    raw = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "t", "svg.fonttype": "none"}):
        fig.savefig(raw, format="svg")

    def marks(text: str) -> list[str]:
        return re.findall(r"<(path|use|text|rect|clipPath)\b", text)

    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert marks(svg) == marks(raw.getvalue())
    assert re.search(r'<g id="[^"]*">', svg) is None  # no group that holds only an id
    assert "a &amp; b &lt; c" in svg
    # the same figure, the same text, whatever namespace prefix another library in the
    # process gave ElementTree (WeasyPrint registers its own)
    ET.register_namespace("svg", "http://www.w3.org/2000/svg")
    assert figure_svg(fig, "t") == svg


def test_a_group_that_does_something_is_kept_tags_and_all() -> None:
    from drills.report.svg import dissolve_bare_groups

    nested = ('<svg>\n <g id="a">\n  <g id="b" transform="scale(2)">\n   <path d="M0 0"/>\n'
              '  </g>\n  <g id="c"><text>t</text></g>\n  <g id="d"/>\n </g>\n</svg>')
    assert dissolve_bare_groups(nested) == ('<svg>\n  <g id="b" transform="scale(2)">\n'
                                            '   <path d="M0 0"/>\n  </g>\n<text>t</text>\n'
                                            '</svg>')


def test_the_pdf_page_drops_what_is_marked_detail_and_keeps_the_rest() -> None:
    from drills.evidence.pdf import without_detail

    page = ('<p>a</p>\n<div class="x detail" id="q"><div>in<div>deeper</div></div>\n'
            '<br></div><p title="<div>">b</p><section class="detail"><p>c</section>\n'
            '<div class="details">kept</div><div class="detail">never closed')
    assert without_detail(page) == ('<p>a</p>\n<p title="<div>">b</p>\n'
                                    '<div class="details">kept</div>'
                                    '<div class="detail">never closed')


def test_the_pdf_page_draws_each_chart_as_an_image_of_the_same_svg() -> None:
    import base64

    from drills.evidence.pdf import charts_as_images

    chart = '<svg xmlns="http://www.w3.org/2000/svg"><text>é</text></svg>'
    page = f"<figure>{chart}<figcaption>x</figcaption></figure><p>{chart}</p>"
    out = charts_as_images(page)
    assert "<svg" not in out and out.count('<img class="chart"') == 2
    data = out.split("base64,")[1].split('"')[0]
    assert base64.b64decode(data).decode("utf-8") == chart
