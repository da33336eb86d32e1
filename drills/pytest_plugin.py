"""The pytest plugin: drills as pytest tests (registered through the ``pytest11`` entry point).

A scenario is a test marked ``@pytest.mark.drill("name")`` that takes the ``drill``
fixture. The plugin reads the plan once, skips nothing silently (a scenario the plan
does not list is deselected and reported), builds each Drill through the
``drill_factory`` fixture, and writes the report (HTML, summary.json, junit.xml) when
the session ends. It stays inert in sessions that collect no drill.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from drills import interrupt
from drills.config import RunConfig, claim_run_dir
from drills.drill import Drill, RuntimeFactory
from drills.errors import DrillError, PlanError
from drills.evidence.pdf import EDITIONS
from drills.measure.evaluate import DrillResult
from drills.plan import Plan, load_plan
from drills.plan.scenario_spec import Source
from drills.runtime import choose

_RESULTS = pytest.StashKey[list[DrillResult]]()
_CONFIG = pytest.StashKey[RunConfig]()
_PLAN = pytest.StashKey[Plan]()
_STARTED = pytest.StashKey[float]()
_REPORT = pytest.StashKey[Path]()
_DESELECTED = pytest.StashKey[list[str]]()
_CALL_ERROR = pytest.StashKey[BaseException]()
#: the plan scenario a built-in test runs under another name (``kill-pg: {builtin: ...}``)
_PLAN_NAME = pytest.StashKey[str]()
#: the parameter of drills' one test of the scenarios a plan spells out
PLAN_SCENARIO = "plan_scenario"

DrillFactory = Callable[..., Drill]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drills", "disaster-recovery drills")
    group.addoption("--drill-plan", help="plan file (default: the plan shipped with drills)")
    group.addoption("--drill-out", help="report directory (default: reports/)")
    group.addoption("--drill-runtime", choices=choose.RUNTIMES,
                    help="what brings the stack up (default: auto)")
    group.addoption("--drill-run-id", help="run id (default: time plus random suffix)")
    group.addoption("--drill-scenario", action="append", default=[],
                    help="run only this scenario (repeatable)")
    group.addoption("--drill-runs-db", help="runs database for trends and regression limits "
                    "(default: drills-runs.sqlite in the report directory)")
    # the option's name until drills 0.2.0, still accepted
    group.addoption("--drill-history", dest="drill_history", help=argparse.SUPPRESS)
    group.addoption("--drill-operator", help="who runs the drill (default: the login name)")
    group.addoption("--drill-sign-key", help="SSH private key that signs the evidence pack")
    group.addoption("--drill-pdf", choices=EDITIONS, default=EDITIONS[0],
                    help="the report.pdf edition (drills.evidence.pdf): condensed (default), "
                    "or full with every detail of the page")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drill(name): a drill scenario of the plan")
    config.addinivalue_line("markers", "drills_unused: drills' generated test, for a plan with "
                            "nothing for it to run")
    config.stash[_RESULTS] = []
    config.stash[_STARTED] = time.time()
    try:
        config.stash[_CONFIG] = RunConfig.resolve(
            plan=config.getoption("drill_plan"), out=config.getoption("drill_out"),
            runtime=config.getoption("drill_runtime"), run_id=config.getoption("drill_run_id"),
            scenarios=tuple(config.getoption("drill_scenario")),
            runs_db=_renamed_option(config, "drill_runs_db", "drill_history"),
            operator=config.getoption("drill_operator"),
            sign_key=config.getoption("drill_sign_key"),
        )
        key = config.stash[_CONFIG].sign_key
        if key is not None:
            from drills.evidence.signing import check_private_key

            check_private_key(key)
    except DrillError as exc:
        raise pytest.UsageError(str(exc)) from exc


def _renamed_option(config: pytest.Config, name: str, old: str) -> Any:
    """Option ``name``, else its old name ``old`` with a one-line note on stderr."""
    value = config.getoption(name)
    if value is None and config.getoption(old) is not None:
        print(f"drill: --{old.replace('_', '-')} is deprecated; use "
              f"--{name.replace('_', '-')} instead", file=sys.stderr)
        value = config.getoption(old)
    return value


def _plan(config: pytest.Config) -> Plan:
    if _PLAN not in config.stash:
        try:
            config.stash[_PLAN] = load_plan(config.stash[_CONFIG].plan_path)
        except PlanError as exc:
            raise pytest.UsageError(str(exc)) from exc
    return config.stash[_PLAN]


def _scenario_of(item: pytest.Item) -> str | None:
    if _PLAN_NAME in item.stash:
        return item.stash[_PLAN_NAME]
    marker = item.get_closest_marker("drill")
    return str(marker.args[0]) if marker and marker.args else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per scenario the plan spells out (drills/scenarios/test_plan_steps.py)."""
    if PLAN_SCENARIO not in metafunc.fixturenames:
        return
    plan = _plan(metafunc.config)
    names = [n for n, s in plan.scenarios.items() if s.source is Source.STEPS]
    metafunc.parametrize(PLAN_SCENARIO, [pytest.param(n, id=n, marks=pytest.mark.drill(n))
                                         for n in names] or
                         [pytest.param(None, marks=pytest.mark.drills_unused)])


def _match_plan(items: list[pytest.Item], plan: Plan) -> list[pytest.Item]:
    """Tie each collected drill to its plan scenario; refuse a plan scenario with none.

    A built-in test runs the plan scenario that names it (``builtin:``), under that name;
    the plan's own spelled-out scenarios are drills' one generated test each; a ``code:
    true`` scenario needs the team's test, marked with its name. Returns the items kept.
    """
    by_builtin = {s.builtin: n for n, s in plan.scenarios.items()
                  if s.source is Source.BUILTIN and s.builtin}
    kept = []
    for item in items:
        if item.get_closest_marker("drills_unused"):
            continue  # no scenario for drills' generated test: not a drill, not deselected
        marker = _scenario_of(item)
        if marker is not None and marker not in plan.scenarios and marker in by_builtin:
            item.stash[_PLAN_NAME] = by_builtin[marker]
        kept.append(item)
    return kept


def _unmatched(items: list[pytest.Item], plan: Plan, wanted: tuple[str, ...]) -> list[str]:
    found = {_scenario_of(i) for i in items}
    return [n for n in (wanted or tuple(plan.scenarios)) if n not in found]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items[:] = [i for i in items if not i.get_closest_marker("drills_unused")]
    drills_items = [i for i in items if _scenario_of(i)]
    if not drills_items:
        return
    plan = _plan(config)
    items[:] = _match_plan(items, plan)
    wanted = config.stash[_CONFIG].scenarios
    if plan.version >= 2:
        missing = _unmatched(items, plan, wanted)
        if missing:
            lines = [f"{n}: " + ("your Python drill: no test marked @pytest.mark.drill("
                                 f"{n!r}) was collected (drill run --scenarios DIR)"
                                 if plan.scenarios[n].source is Source.CODE else
                                 "no drill was collected for it") for n in missing
                     if n in plan.scenarios]
            if lines:
                raise pytest.UsageError(f"{plan.path}: scenarios with nothing to run them "
                                        "(never skipped silently):\n  " + "\n  ".join(lines))
    unknown = [s for s in wanted if s not in plan.scenarios]
    if unknown:
        raise pytest.UsageError(
            f"{plan.path}: scenario {', '.join(unknown)} is not in the plan; it has: "
            f"{', '.join(plan.scenarios)}"
        )
    keep, drop = [], []
    for item in items:
        name = _scenario_of(item)
        if name is None or (name in plan.scenarios and (not wanted or name in wanted)):
            keep.append(item)
        else:
            drop.append(item)
    selected = list(dict.fromkeys(n for n in map(_scenario_of, keep) if n is not None))
    try:  # before any drill starts: an unknown or unusable runtime stops the session
        runtime_factory(config, config.stash[_CONFIG].runtime, selected)
        if selected and not config.option.collectonly:
            claim_run_dir(config.stash[_CONFIG].run_dir)
    except DrillError as exc:  # a usage error, never an INTERNALERROR traceback
        raise pytest.UsageError(str(exc)) from exc
    if drop:
        config.hook.pytest_deselected(items=drop)
        config.stash[_DESELECTED] = [i.nodeid for i in drop]
    items[:] = keep


_RUNTIME = pytest.StashKey[dict[str, str]]()


def runtime_factory(config: pytest.Config, name: str,
                    scenarios: Sequence[str] | None = None) -> RuntimeFactory:
    """The runtime a run asked for; ``auto`` is resolved once and said on the terminal.

    ``scenarios``: those the session runs; the compose runtime needs only their images.
    """
    resolved = config.stash.setdefault(_RUNTIME, {})
    if name not in resolved:
        concrete, why = choose.resolve(name, None if scenarios is None else
                                         choose.kinds_needed(_plan(config), scenarios))
        resolved[name] = concrete
        if name == "auto":
            _progress_writer(config)(f"drills: runtime {concrete} ({why})")
    return choose.factory(resolved[name])


def _progress_writer(config: pytest.Config) -> Callable[[str], None]:
    """Progress lines on the real terminal, past pytest's output capture."""
    capman = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    main = threading.main_thread()

    def write(line: str) -> None:
        if reporter is None or threading.current_thread() is not main:
            return
        if capman is None:
            reporter.write_line(line)
            return
        with capman.global_and_fixture_disabled():
            reporter.write_line(line)

    return write


@pytest.fixture
def drill_factory(request: pytest.FixtureRequest) -> Iterator[DrillFactory]:
    """Make Drills for scenarios of the plan; each is closed (and recorded) at teardown."""
    config = request.config
    run = config.stash[_CONFIG]
    made: list[Drill] = []

    def make(scenario: str, out_dir: Path | None = None, runtime: str | None = None) -> Drill:
        plan = _plan(config)
        drill = Drill(
            plan.scenario(scenario), plan, run.run_id,
            out_dir or run.run_dir, runtime_factory(config, runtime or run.runtime),
            progress=_progress_writer(config),
        )
        made.append(drill)
        limits = drill.scenario.regression
        if limits is not None:  # the runs it is judged against, as they stand now
            from drills.trends.baseline import save_baseline, take_baseline
            from drills.trends.store import RunStore, settings_digest

            save_baseline(drill.files.root, take_baseline(
                RunStore(run.runs_db_path), plan.name, drill.scenario.name,
                config.stash[_RUNTIME][runtime or run.runtime], limits.runs,
                config.stash[_STARTED], settings_digest(drill.scenario.to_dict())))
        return drill

    yield make
    failed: list[BaseException] = []
    for drill in made:
        try:
            result = drill.close(_call_error(request.node))
        except Exception as exc:  # the other drills still close; this one is reported below
            failed.append(exc)
            continue
        if out_dir_is_run_dir(drill, run):
            config.stash[_RESULTS].append(result)
    if failed:
        raise failed[0]


def out_dir_is_run_dir(drill: Drill, run: RunConfig) -> bool:
    return drill.files.root.parent == run.run_dir


def _call_error(item: pytest.Item) -> BaseException | None:
    return item.stash.get(_CALL_ERROR, None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    interrupt.check()  # a Ctrl-C lost in a finaliser still stops the next scenario


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except BaseException as exc:
        # Before the conclusion an error (an assert in the procedure too) makes the drill
        # "could not verify"; after it (the verdict's own assert) it changes nothing.
        item.stash[_CALL_ERROR] = exc
        raise


@pytest.fixture
def drill(request: pytest.FixtureRequest, drill_factory: DrillFactory) -> Drill:
    """The Drill for the scenario named by the test's ``drill`` marker."""
    name = _scenario_of(request.node)
    if name is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses the drill fixture without "
                                "@pytest.mark.drill('<scenario>')")
    made = drill_factory(name)
    assert isinstance(made, Drill)
    return made


@pytest.hookimpl(trylast=True)  # after pytest's own teardown, even on Ctrl-C
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    results = config.stash.get(_RESULTS, [])
    if not results:
        return
    from drills.evidence.pack import seal
    from drills.evidence.pdf import Edition
    from drills.plan.contradictions import find
    from drills.redact import keep_private
    from drills.report import render_reports
    from drills.report.cadence import cadence, previous_run
    from drills.report.trend_series import gather, save_trends
    from drills.trends.store import RunStore, settings_digest

    run = config.stash[_CONFIG]
    plan = _plan(config)
    started = config.stash[_STARTED]
    previous = previous_run(run.run_dir.parent, plan.name, started, run.run_id)
    store = RunStore(run.runs_db_path)
    meta = {
        "run_id": run.run_id, "runtime": runtime_of(results), "runtime_requested": run.runtime,
        "plan": {"path": str(plan.path), "sha256": plan.sha256, "name": plan.name,
                 "version": plan.version,
                 "contradictions": [str(c) for c in find(plan)],
                 "cadence": cadence(plan.drill_every_s, started, previous)},
        "started_wall": config.stash[_STARTED], "finished_wall": time.time(),
        "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "operator": run.operator, "signed": run.sign_key is not None,
        # what the run set out to drill: a scenario with no result, or an interruption,
        # keeps the run from passing (drills.report.summary.run_verdict)
        "planned": _planned(session, plan),
        "interrupted": (exitstatus == pytest.ExitCode.INTERRUPTED
                        or interrupt.received() is not None),
    }
    save_trends(run.run_dir, gather(store, plan.name, results, started))
    rendered = render_reports(run.run_dir, results, meta)
    paths = rendered.paths
    say = _progress_writer(config)
    # sealed first: the pack is the evidence; the runs database is a convenience on top.
    # The reports, which state the verdict, are written only once the pack is sealed.
    sealed = seal(run.run_dir, results, meta, plan.path, run.sign_key, plan.source,
                  rendered.files, Edition(config.getoption("drill_pdf")))
    config.stash[_REPORT] = paths.html
    keep_private(run.run_dir)  # what a tool wrote with its own modes: 0600 in 0700 too
    if sealed.pdf_problem:
        say(f"drills: no PDF of the report: {sealed.pdf_problem}")
    try:
        store.record(json.loads(paths.summary.read_text(encoding="utf-8")), run.operator,
                     run.run_dir, {r.scenario: settings_digest(plan.scenario(r.scenario)
                                                               .to_dict()) for r in results})
    except DrillError as exc:
        say(f"drills: this run was not added to the runs database: {exc}")


def _planned(session: pytest.Session, plan: Plan) -> list[str]:
    """The plan's scenarios among the tests this session set out to run, in order."""
    names = (_scenario_of(item) for item in session.items)
    return list(dict.fromkeys(n for n in names if n is not None and n in plan.scenarios))


def runtime_of(results: list[DrillResult]) -> str:
    """The runtime the scenarios really ran on (``auto`` resolved), as they recorded it."""
    used = sorted({r.runtime for r in results})
    return used[0] if len(used) == 1 else ", ".join(used)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    results = config.stash.get(_RESULTS, [])
    if not results:
        return
    terminalreporter.section("drills")
    for r in results:
        rto = "n/a" if r.rto is None or r.rto.seconds is None else f"{r.rto.seconds:.3f} s"
        lost = "n/a" if r.writes is None else str(len(r.writes.lost))
        terminalreporter.write_line(
            f"{r.scenario:<28} {r.verdict:<17} RTO {rto:<9} lost {lost:<6} ({r.runtime})"
        )
    if _REPORT in config.stash:
        terminalreporter.write_line(f"report: {config.stash[_REPORT]}")
