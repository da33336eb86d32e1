"""The ``drill`` command: run drills, re-render reports, clean up after crashed runs.

Exit codes: 0 every target passed; 1 a target failed or could not be verified;
2 bad input (plan, options); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from drills.config import RunConfig
from drills.errors import DrillError, PlanError
from drills.plan import load_plan
from drills.stack import runtimes

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def scenarios_dir(explicit: str | None) -> Path:
    """Where the scenario files live: --scenarios, ./scenarios, or next to the package."""
    candidates = [Path(explicit)] if explicit else [
        Path.cwd() / "scenarios", Path(__file__).resolve().parent.parent / "scenarios",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise DrillError(f"no scenarios directory found (looked in: "
                     f"{', '.join(map(str, candidates))}); pass --scenarios DIR")


def _interrupt_on_sigterm() -> None:
    """SIGTERM tears down like Ctrl-C: every finally block and fixture teardown runs."""
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    config = RunConfig.resolve(plan=args.plan, out=args.out, runtime=args.runtime,
                               run_id=args.run_id, scenarios=tuple(args.scenario or ()))
    plan = load_plan(config.plan_path)  # bad plans stop here, before anything starts
    for name in config.scenarios:
        plan.scenario(name)
    where = scenarios_dir(args.scenarios)
    runtime, why = runtimes.resolve(config.runtime)
    print(f"drill: runtime {runtime} ({why})")
    print(f"drill: run {config.run_id}, plan {plan.path}, runtime {runtime}, "
          f"scenarios: {', '.join(config.scenarios or tuple(plan.scenarios))}", flush=True)
    pytest_args = [
        str(where), "-p", "no:cacheprovider", "-p", "no:locust", "-q",
        "--rootdir", str(where.parent),
        # a drill reports warnings; it does not die of them (the test suite's ini says error)
        "-W", "default", "-W", "ignore::pytest.PytestAssertRewriteWarning",
        "--drill-plan", str(plan.path), "--drill-out", str(config.out_dir),
        "--drill-runtime", runtime, "--drill-run-id", config.run_id,
        *[f"--drill-scenario={s}" for s in config.scenarios], *args.pytest_args,
    ]
    _interrupt_on_sigterm()
    code = pytest.main(pytest_args)
    summary = config.run_dir / "summary.json"
    if code == pytest.ExitCode.INTERRUPTED:
        print(f"drill: interrupted; partial report in {config.run_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if code == pytest.ExitCode.USAGE_ERROR:
        return EXIT_USAGE
    if not summary.exists():
        print(f"drill: no drill ran (pytest exit {int(code)}); nothing is verified",
              file=sys.stderr)
        return EXIT_FAILED
    verdict = json.loads(summary.read_text())
    print(f"drill: {verdict['verdict']}; report: {config.run_dir / 'index.html'}")
    return EXIT_OK if verdict["exit_code"] == 0 and code == 0 else EXIT_FAILED


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild every figure and the report files from a run's saved journals."""
    from drills.journal import ScenarioFiles
    from drills.measure.evaluate import evaluate
    from drills.report import write_reports

    run_dir = Path(args.run_dir)
    old = json.loads((run_dir / "summary.json").read_text())
    results = [evaluate(ScenarioFiles(run_dir / s["name"])) for s in old["scenarios"]]
    paths = write_reports(run_dir, results, {
        "run_id": old["run_id"], "runtime": old["runtime"], "plan": old["plan"],
        "started_wall": old.get("started_wall", 0.0),
        "finished_wall": old.get("finished_wall", 0.0),
        "command": old.get("command", ""),
    })
    print(f"drill: report rebuilt from journals: {paths.html}")
    return EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    from drills.cleanup import clean_docker, clean_local

    for line in [*clean_local(dry_run=args.dry_run), *clean_docker(dry_run=args.dry_run)]:
        print(line)
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="drill", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the plan's drills and write the report")
    run.add_argument("--plan", help="plan file (default: the plan shipped with drills)")
    run.add_argument("--scenario", action="append", metavar="NAME",
                     help="run only this scenario (repeatable; default: every one in the plan)")
    run.add_argument("--runtime", choices=runtimes.RUNTIMES,
                     help="local processes, compose containers, or auto (default): compose "
                     "where a Docker engine answers with the images, else local")
    run.add_argument("--out", help="report directory (default: reports/)")
    run.add_argument("--run-id", help=argparse.SUPPRESS)
    run.add_argument("--scenarios", help="directory of scenario files (default: ./scenarios)")
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    run.set_defaults(func=cmd_run)
    report = sub.add_parser("report", help="rebuild a run's report from its journals")
    report.add_argument("run_dir")
    report.set_defaults(func=cmd_report)
    clean = sub.add_parser("clean", help="remove what crashed runs left behind")
    clean.add_argument("--dry-run", action="store_true", help="only list what would go")
    clean.set_defaults(func=cmd_clean)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except PlanError as exc:
        print(f"drill: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DrillError as exc:
        print(f"drill: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
