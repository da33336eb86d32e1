"""Runs across time: the runs database, regression limits against a baseline, the summary's
change column. Pure logic and SQLite; the drills themselves are synthetic journals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drills.measure.evaluate import evaluate
from drills.measure.findings import Finding
from drills.measure.regression import regression_rows
from drills.measure.verdict import Verdict
from drills.report.summary_view import change
from drills.trends.baseline import Baseline, save_baseline
from drills.trends.store import Point, RunStore
from tests.synthetic import make_scenario_dir

LIMITS = {"rto": 0.3, "rpo": None, "runs": 5, "margin_s": 0.0}


def _point(run_id: str, rto: float | None, verdict: str = "pass", at: float = 0.0,
           rpo: float | None = 0.0) -> Point:
    return Point(run_id, at, "local", verdict, rto, rpo, 0, 30.0, 0.0)


def _baseline(*rtos: float) -> Baseline:
    return Baseline("runs.sqlite", "local",
                    tuple(_point(f"r{i}", r, at=i) for i, r in enumerate(rtos)))


def test_a_figure_above_the_median_by_more_than_the_limit_fails() -> None:
    findings: list[Finding] = []
    rows, note = regression_rows(LIMITS, _baseline(1.0, 2.0, 1.2), {"rto_s": (1.7, "")},
                                 findings)
    assert [(r.key, r.verdict) for r in rows] == [("regression.rto_s", Verdict.FAIL)]
    assert rows[0].target_value == pytest.approx(1.2 * 1.3)
    assert [f.code for f in findings] == ["REGRESSION"]
    assert "r0, r1, r2" in note


def test_a_figure_within_the_limit_passes() -> None:
    findings: list[Finding] = []
    rows, _ = regression_rows(LIMITS, _baseline(1.0, 2.0, 1.2), {"rto_s": (1.55, "")},
                              findings)
    assert rows[0].verdict == Verdict.PASS and not findings


def test_the_margin_keeps_small_figures_from_failing_on_noise() -> None:
    limits = {**LIMITS, "margin_s": 0.5}
    rows, _ = regression_rows(limits, _baseline(0.2, 0.3, 0.25), {"rto_s": (0.7, "")}, [])
    assert rows[0].verdict == Verdict.PASS
    assert rows[0].target_value == pytest.approx(0.75)
    assert "or +500" in rows[0].target or "or +0.500 s" in rows[0].target
    rows, _ = regression_rows(limits, _baseline(0.2, 0.3, 0.25), {"rto_s": (0.76, "")}, [])
    assert rows[0].verdict == Verdict.FAIL


def test_no_earlier_passing_run_gives_no_row_and_says_so() -> None:
    rows, note = regression_rows(LIMITS, Baseline("x.sqlite", "compose", ()),
                                 {"rto_s": (9.0, "")}, [])
    assert rows == [] and "no earlier passing run" in note and "compose" in note


def test_a_limit_without_a_saved_baseline_could_not_be_verified() -> None:
    findings: list[Finding] = []
    rows, _ = regression_rows(LIMITS, None, {"rto_s": (1.0, "")}, findings)
    assert [r.verdict for r in rows] == [Verdict.COULD_NOT_VERIFY]
    assert findings[0].code == "COULD_NOT_VERIFY"


def test_a_limit_on_a_figure_no_earlier_run_measured_could_not_be_verified() -> None:
    baseline = Baseline("x", "local", (_point("r1", 1.0, rpo=None),))
    rows, _ = regression_rows({**LIMITS, "rpo": 0.5}, baseline,
                              {"rto_s": (1.0, ""), "rpo_s": (99.0, "")}, [])
    assert [(r.key, r.verdict) for r in rows] == [("regression.rto_s", Verdict.PASS),
                                                  ("regression.rpo_s", Verdict.COULD_NOT_VERIFY)]


def test_the_note_says_when_the_baseline_was_drilled_otherwise() -> None:
    runs = (Point("r1", 1.0, "local", "pass", 1.0, 0.0, 0, None, None, "old"),
            Point("r2", 2.0, "local", "pass", 1.0, 0.0, 0, None, None, "new"))
    _, note = regression_rows(LIMITS, Baseline("x", "local", runs, "new"),
                              {"rto_s": (1.0, "")}, [])
    assert "1 of them (r1) were drilled with other settings" in note


def test_settings_digest_ignores_targets_but_not_how_it_is_drilled() -> None:
    from drills.trends.store import settings_digest

    base = {"name": "pg", "targets": {"rto_s": 1}, "params": {"gap_s": 2}, "dataset_bytes": 0}
    same = {**base, "targets": {"rto_s": 9}, "controls": ["x"], "regression": None}
    assert settings_digest(base) == settings_digest(same)
    assert settings_digest(base) != settings_digest({**base, "dataset_bytes": 10})


def test_a_missing_figure_could_not_be_verified_with_its_reason() -> None:
    rows, _ = regression_rows(LIMITS, _baseline(1.0), {"rto_s": (None, "never answered")}, [])
    assert rows[0].verdict == Verdict.COULD_NOT_VERIFY and rows[0].reason == "never answered"


def _with_regression(run_dir: Path, baseline: Baseline, **spec: Any) -> Path:
    files = make_scenario_dir(run_dir, **spec)
    journal = json.loads(files.journal.read_text())
    journal["scenario"]["regression"] = LIMITS
    files.journal.write_text(json.dumps(journal))
    save_baseline(files.root, baseline)
    return files.root


def test_evaluate_judges_the_saved_baseline(tmp_path: Path) -> None:
    # the synthetic drill's RTO is 1.61 s: 1.0 s * 1.3 is exceeded, 1.5 s * 1.3 is not
    root = _with_regression(tmp_path / "a", _baseline(1.0, 1.0, 1.0), lost=0)
    from drills.record.journal import ScenarioFiles

    result = evaluate(ScenarioFiles(root))
    assert result.rto is not None and result.rto.seconds == pytest.approx(1.61)
    row = next(c for c in result.checks if c.key == "regression.rto_s")
    assert row.verdict == Verdict.FAIL and result.verdict == Verdict.FAIL
    assert any(f.code == "REGRESSION" for f in result.findings)
    assert result.to_dict()["regression"]["baseline"]["runs"][0]["run_id"] == "r0"
    root = _with_regression(tmp_path / "b", _baseline(1.5, 1.5), lost=0)
    result = evaluate(ScenarioFiles(root))
    assert result.verdict == Verdict.PASS


def _summary(run_id: str, started: float, plan: str, verdict: str, rto: float,
             runtime: str = "local") -> dict[str, Any]:
    return {"run_id": run_id, "plan": {"name": plan, "sha256": "ab"}, "started_wall": started,
            "finished_wall": started + 1, "runtime": runtime, "verdict": verdict,
            "scenarios": [{"name": "pg-kill", "runtime": runtime, "verdict": verdict,
                           "rto_s": rto, "rpo_s": 0.0, "lost_writes": 0, "acked_writes": 9,
                           "fault_at": started,
                           "targets": [{"key": "rto_s", "target_value": 30.0}]}]}


def test_the_store_keeps_runs_per_plan_runtime_and_verdict(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "sub" / "runs.sqlite")
    assert store.series("p", "pg-kill") == []  # no file yet: nothing, and nothing created
    for i, (plan, verdict, runtime, settings) in enumerate([
            ("p", "pass", "local", "a"), ("p", "fail", "local", "a"), ("q", "pass", "local", "a"),
            ("p", "pass", "compose", "a"), ("p", "pass", "local", "a"),
            ("p", "pass", "local", "a"), ("p", "pass", "local", "b")]):
        store.record(_summary(f"r{i}", 100.0 + i, plan, verdict, 1.0 + i, runtime), "op",
                     tmp_path, {"pg-kill": settings})
    assert [p.run_id for p in store.series("p", "pg-kill")] == ["r0", "r1", "r3", "r4", "r5",
                                                                 "r6"]
    passing = store.series("p", "pg-kill", runtime="local", passing_only=True)
    assert [p.run_id for p in passing] == ["r0", "r4", "r5", "r6"]
    assert [p.settings for p in passing] == ["a", "a", "a", "b"]
    from drills.errors import UsageError

    with pytest.raises(UsageError, match="already holds a run r3"):
        store.check("r3")
    store.check("r-new")
    latest = store.series("p", "pg-kill", runtime="local", passing_only=True, limit=2,
                          before_wall=105.0)
    assert [p.run_id for p in latest] == ["r0", "r4"]
    assert latest[0].rto_target_s == 30.0 and latest[1].rto_s == 5.0


def test_a_store_of_another_schema_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from drills.errors import UsageError

    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(UsageError, match="schema 99"):
        RunStore(path).series("p", "pg-kill")
    path.write_text("not a database at all, just text " * 100)
    with pytest.raises(UsageError, match="cannot use the runs database"):
        RunStore(path).series("p", "pg-kill")


def test_change_since_the_previous_drill() -> None:
    assert "first drill" in change([_point("r1", 1.0)])
    said = change([_point("r1", 2.0), _point("r2", 3.0, "fail", rpo=0.5)])
    assert said == "RTO +1.000 s (+50%); RPO +0.500 s; verdict was pass (vs r1)"
    assert change([_point("r1", 2.0), _point("r2", 2.0)]) == "RTO ±0; RPO ±0 (vs r1)"


def test_the_runs_database_option_and_its_old_name(capsys: pytest.CaptureFixture[str]) -> None:
    from drills.cli import parser

    assert parser().parse_args(["run", "--runs-db", "r.sqlite"]).runs_db == "r.sqlite"
    assert capsys.readouterr().err == ""
    # --history, its name until 0.2.0, is in CI scripts: still read, with a one-line note
    assert parser().parse_args(["run", "--history", "h.sqlite"]).runs_db == "h.sqlite"
    assert capsys.readouterr().err == "drill: --history is deprecated; use --runs-db instead\n"
    with pytest.raises(SystemExit):
        parser().parse_args(["run", "--help"])
    shown = capsys.readouterr().out
    assert "--runs-db FILE" in shown and "--history" not in shown


def test_a_bad_runs_database_under_its_old_name_is_named_by_the_new_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    from drills.cli import EXIT_USAGE, main

    assert main(["run", "--history", " "]) == EXIT_USAGE  # before anything starts
    err = capsys.readouterr().err
    assert "--history is deprecated; use --runs-db" in err
    assert "--runs-db (or DRILLS_RUNS_DB) is empty" in err


def test_the_runs_database_variable_and_its_old_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from drills.config import RunConfig

    monkeypatch.delenv("DRILLS_RUNS_DB", raising=False)
    monkeypatch.delenv("DRILLS_HISTORY", raising=False)
    assert RunConfig.resolve(out=tmp_path).runs_db_path == tmp_path / "drills-runs.sqlite"
    monkeypatch.setenv("DRILLS_HISTORY", str(tmp_path / "old.sqlite"))
    assert RunConfig.resolve(out=tmp_path).runs_db == tmp_path / "old.sqlite"
    assert capsys.readouterr().err == ("drill: DRILLS_HISTORY is deprecated; set "
                                       "DRILLS_RUNS_DB instead\n")
    monkeypatch.setenv("DRILLS_RUNS_DB", str(tmp_path / "new.sqlite"))
    assert RunConfig.resolve(out=tmp_path).runs_db == tmp_path / "new.sqlite"
    assert RunConfig.resolve(out=tmp_path, runs_db="opt.sqlite").runs_db == Path("opt.sqlite")
    monkeypatch.delenv("DRILLS_RUNS_DB")
    assert RunConfig.resolve(out=tmp_path, runs_db="opt.sqlite").runs_db == Path("opt.sqlite")
    assert capsys.readouterr().err == ""  # the option given: the old variable is not read


def test_the_plugins_runs_database_option_and_its_old_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    from drills.pytest_plugin import _renamed_option

    class Config:
        def __init__(self, **options: str | None) -> None:
            self.options = options

        def getoption(self, name: str) -> str | None:
            return self.options[name]

    new, old = "drill_runs_db", "drill_history"
    config: Any = Config(drill_runs_db="r.sqlite", drill_history=None)
    assert _renamed_option(config, new, old) == "r.sqlite"
    assert capsys.readouterr().err == ""
    config = Config(drill_runs_db=None, drill_history="h.sqlite")
    assert _renamed_option(config, new, old) == "h.sqlite"
    assert capsys.readouterr().err == ("drill: --drill-history is deprecated; use "
                                       "--drill-runs-db instead\n")
