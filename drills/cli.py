"""The ``drill`` command: run drills, re-render reports, clean up, build offline images.

Exit codes: 0 every target passed; 1 a target failed or could not be verified; 2 bad
input (plan, options, environment variables), before anything started; 130 interrupted.
``drill report`` exits by the verdict it rebuilt, as ``drill run`` does; ``drill verify``
1 when the pack is not what its run wrote; ``drill clean`` 1 when something it should
remove could not be removed (what it keeps on purpose is no failure).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from drills import interrupt
from drills.config import RunConfig, disk_short, prepare_out_dir, run_dir_taken
from drills.errors import DrillError, PlanError, UsageError, printable
from drills.evidence.pdf import EDITIONS
from drills.plan import contradictions, load_plan
from drills.plan.model import Acceptance
from drills.plan.scenario_spec import Source
from drills.runtime import choose

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PDF_HELP = ("report.pdf for auditors: condensed (default; the summary, the controls and a "
            "block per scenario: its verdicts, timeline, runbook and trend) or full (every "
            "detail of index.html)")


def builtin_scenarios() -> Path:
    """The scenarios that ship inside drills."""
    return Path(str(resources.files("drills") / "scenarios"))


def scenarios_dir(explicit: str | None) -> Path:
    """Where the scenario files live: --scenarios, else the built-in ones."""
    if explicit is None:
        return builtin_scenarios()
    where = Path(explicit)
    if not where.is_dir():
        raise UsageError(f"--scenarios {printable(explicit)}: no such directory")
    return where


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    config = RunConfig.resolve(plan=args.plan, out=args.out, runtime=args.runtime,
                               run_id=args.run_id, scenarios=tuple(args.scenario or ()),
                               runs_db=args.runs_db, operator=args.operator,
                               sign_key=args.sign_key)
    plan = load_plan(config.plan_path)  # bad plans stop here, before anything starts
    if config.sign_key is not None:
        from drills.evidence.signing import check_private_key

        check_private_key(config.sign_key)
    if config.run_dir.exists():  # early; the pytest plugin claims it in one step
        raise run_dir_taken(config.run_dir)
    for name in config.scenarios:
        plan.scenario(name)
    where = scenarios_dir(args.scenarios)
    paths = [where]
    if where != builtin_scenarios() and any(s.source is not Source.CODE
                                            for s in plan.scenarios.values()):
        paths.append(builtin_scenarios())  # built-in drills, and the plan's spelled-out ones
    found = contradictions.find(plan)
    selected = set(config.scenarios or plan.scenarios)
    blocking = [c for c in found if c.blocking and (not c.scenarios
                                                   or selected & set(c.scenarios))]
    found = [c for c in found if not c.blocking]
    if blocking:
        raise UsageError(f"{printable(plan.path, 300)}: the plan cannot run as written "
                         "(drill check says the same):\n  - "
                         + "\n  - ".join(printable(str(c), 600) for c in blocking))
    for item in found:
        accepted = contradictions.acceptance_of(plan, item)
        said = f" [{_accepted(accepted)}]" if accepted else " (a failing row of the verdict)"
        print(f"drill: the plan itself already misses a target: {printable(str(item), 600)}"
              + said, file=sys.stderr)
    runtime, why = choose.resolve(config.runtime, choose.kinds_needed(
        plan, config.scenarios or tuple(plan.scenarios)))
    refused = choose.refused_on(runtime, plan, config.scenarios or tuple(plan.scenarios))
    if refused:
        raise UsageError(f"runtime {runtime} ({why}) cannot run: " + "; ".join(refused)
                         + ". Choose the runtime with --runtime, or leave these scenarios out "
                         "with --scenario")
    if plan.stack is not None and plan.stack.own:
        from drills.runtime.own_compose import preflight

        preflight(plan.stack)  # the team's project, refused before anything starts
    prepare_out_dir(config.out_dir)
    from drills.trends.store import RunStore

    RunStore(config.runs_db_path).check(config.run_id)
    print(f"drill: runtime {runtime} ({why})")
    print(f"drill: run {config.run_id}, plan {printable(plan.path, 300)}, runtime {runtime}, "
          f"scenarios: {', '.join(config.scenarios or tuple(plan.scenarios))}", flush=True)
    isolation = []
    if builtin_scenarios() in paths:
        # the built-in drills carry their own pytest settings: whatever pytest.ini or
        # pyproject.toml sits above the installed package (or beside a team's own drills)
        # must not change how they run
        isolation = ["-c", str(builtin_scenarios() / "pytest.ini"), "--rootdir",
                     str(builtin_scenarios())]
    pytest_args = [
        *(str(p) for p in paths), "-p", "no:cacheprovider", "-p", "no:locust", "-q", *isolation,
        # a drill reports warnings; it does not die of them (a test suite's ini may say error)
        "-W", "default", "-W", "ignore::pytest.PytestAssertRewriteWarning",
        "--drill-plan", str(plan.path), "--drill-out", str(config.out_dir),
        "--drill-runtime", runtime, "--drill-run-id", config.run_id,
        "--drill-runs-db", str(config.runs_db_path), "--drill-operator", config.operator,
        *(["--drill-sign-key", str(config.sign_key)] if config.sign_key else []),
        "--drill-pdf", args.pdf,
        *[f"--drill-scenario={s}" for s in config.scenarios], *args.pytest_args,
    ]
    interrupt.install()  # SIGTERM tears down like Ctrl-C: every finally and teardown runs
    code = pytest.main(pytest_args)
    summary = config.run_dir / "summary.json"
    if code == pytest.ExitCode.INTERRUPTED or interrupt.received() is not None:
        print(f"drill: interrupted; partial report in {config.run_dir}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if code == pytest.ExitCode.USAGE_ERROR:
        return EXIT_USAGE
    if not summary.exists():
        print(no_verdict(config.out_dir, config.run_dir, int(code)), file=sys.stderr)
        return EXIT_FAILED
    verdict = json.loads(summary.read_text())
    print(f"drill: {verdict['verdict']}; report: {config.run_dir / 'index.html'}")
    return EXIT_OK if verdict["exit_code"] == 0 and code == 0 else EXIT_FAILED


def no_verdict(out_dir: Path, run_dir: Path, code: int) -> str:
    """Why a run ended without a verdict file, as far as can be told."""
    full = disk_short(out_dir)
    if full:
        return (f"drill: the run wrote no verdict: the disk filled up ({out_dir}: {full}); "
                "nothing is verified; free space and run again")
    if any(run_dir.glob("*/journal.json")):
        return (f"drill: the run did not seal its evidence pack (pytest exit {code}), so it "
                f"wrote no verdict; nothing is verified; its journals are in {run_dir}")
    return f"drill: no drill ran (pytest exit {code}); nothing is verified"


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild every figure and the report files from a run's saved journals."""
    from drills.evidence.pdf import FILE_NAME as PDF
    from drills.evidence.pdf import Edition, write_pdf
    from drills.measure.evaluate import evaluate
    from drills.record.journal import ScenarioFiles
    from drills.report import write_reports

    run_dir = Path(args.run_dir)
    summary = run_dir / "summary.json"
    if not run_dir.is_dir():
        raise UsageError(f"{printable(run_dir)}: no such run directory")
    if (run_dir / "manifest.json").exists() and not summary.exists():
        raise DrillError(f"{printable(run_dir)}: manifest.json but no summary.json: the run "
                         "stopped while it sealed its evidence pack, before it wrote its "
                         "verdict; nothing of it is verified (drill verify says what is "
                         "missing); run the drill again")
    if (run_dir / "manifest.json").exists():
        raise UsageError(f"{printable(run_dir)}: a sealed evidence pack (manifest.json): "
                         "rewriting its reports would break what the manifest vouches for. "
                         "`drill verify` recomputes every figure without writing; to render "
                         "it again, copy the directory and delete manifest.json* in the copy")
    try:
        old = json.loads(summary.read_text())
        names = [str(s["name"]) for s in old["scenarios"]]
    except FileNotFoundError:
        if any(run_dir.glob("*/journal.json")):
            raise DrillError(f"{printable(run_dir)}: no summary.json, though its scenarios' "
                             "journals are there: the run stopped before it sealed its "
                             "evidence pack, so it never had a verdict and nothing of it is "
                             "verified; run the drill again") from None
        raise UsageError(f"{printable(run_dir)}: no summary.json; not a drills run directory "
                         "(it is reports/<run id>/)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{printable(summary)}: unreadable ({exc})") from exc
    results = [evaluate(ScenarioFiles(run_dir / name)) for name in names]
    paths = write_reports(run_dir, results, {
        "run_id": old.get("run_id"), "runtime": old.get("runtime"), "plan": old.get("plan"),
        "started_wall": old.get("started_wall", 0.0),
        "finished_wall": old.get("finished_wall", 0.0),
        "command": old.get("command", ""),
        "operator": old.get("operator"), "signed": old.get("signed", False),
        "planned": old.get("planned"), "interrupted": old.get("interrupted", False),
    })
    rebuilt = json.loads(paths.summary.read_text())
    print(f"drill: report rebuilt from journals: {paths.html}")
    problem = write_pdf(paths.html, run_dir / PDF, Edition(args.pdf))
    if problem:  # the report stands without its PDF, as in a run (drills.evidence.pack)
        print(f"drill: no PDF of the report: {problem}", file=sys.stderr)
    else:
        print(f"drill: PDF ({args.pdf} edition): {run_dir / PDF}")
    print(f"drill: {rebuilt['verdict']}")
    return EXIT_OK if rebuilt["exit_code"] == 0 else EXIT_FAILED


def cmd_verify(args: argparse.Namespace) -> int:
    """Check an evidence pack: hashes, signature, plan copy, and every figure recomputed."""
    from drills.evidence.verify import verify_run

    run_dir = Path(args.run_dir)
    key = Path(args.public_key) if args.public_key else None
    if key is not None and not key.is_file():
        raise UsageError(f"--public-key {printable(key)}: no such file")
    found = verify_run(run_dir, key)
    for line in found.ok_lines:
        print(f"ok    {printable(line, 2000)}")
    for line in found.notes:
        print(f"note  {printable(line, 2000)}")
    for line in found.problems:
        print(f"FAIL  {printable(line, 2000)}")
    if found.passed:
        how = "signature checked" if found.authenticated else \
            "integrity only: not signed, so not authenticated"
        print(f"drill verify: {printable(run_dir)}: verified ({how})")
        return EXIT_OK
    print(f"drill verify: {printable(run_dir)}: {len(found.problems)} problem(s); the pack "
          "is not what the run wrote", file=sys.stderr)
    return EXIT_FAILED


def cmd_clean(args: argparse.Namespace) -> int:
    """Remove what crashed runs left; exit 1 when something that should go could not."""
    from drills.cleanup import clean_docker, clean_local

    failed = kept = 0
    for said in [*clean_local(dry_run=args.dry_run), *clean_docker(dry_run=args.dry_run)]:
        print(said.text)
        failed += said.failed
        kept += said.kept
    if kept:
        print(f"drill clean: kept {kept} thing(s) not provably left by a dead run, on "
              "purpose (said above why); not a failure")
    if failed:
        print(f"drill clean: {failed} thing(s) could not be removed (the lines above that "
              "say \"could not\"); remove them by hand, or run drill clean again as a user "
              "who may", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a plan and say what it will do, and what it cannot hold, before any run."""
    from drills.plan import preview
    from drills.redact import redact_url_credentials

    if args.plan and args.plan_option and Path(args.plan) != Path(args.plan_option):
        raise UsageError(f"drill check: two plans given ({args.plan} and --plan "
                         f"{args.plan_option}); give one")
    plan = load_plan(args.plan or args.plan_option)  # invalid: PlanError, exit 2
    host: list[str] = []
    if plan.stack is not None and plan.stack.own:
        from drills.runtime.own_compose import check_lines

        host = check_lines(plan.stack)  # host access drill run would refuse: exit 2
    for line in preview.describe(plan, host=host):  # a URL's password is never shown
        print(printable(redact_url_credentials(line), 2000))
    found = contradictions.find(plan)
    if not found:
        print(f"drill check: {plan.path}: valid, no contradiction")
        return EXIT_OK
    print(f"\ndrill check: {len(found)} contradiction(s):")
    open_gaps = 0
    for item in found:
        accepted = None if item.blocking else contradictions.acceptance_of(plan, item)
        if item.blocking:
            tag = "cannot run"
        elif accepted is not None and accepted.until >= dt.date.today().isoformat():
            tag = _accepted(accepted)
        else:
            tag = "target already missed by the plan itself" + (
                f"; its acceptance expired on {accepted.until}" if accepted else "")
            open_gaps += 1
        open_gaps += item.blocking
        print(f"  - {printable(redact_url_credentials(str(item)), 2000)} "
              f"[{printable(tag, 600)}]")
    if not open_gaps:
        print("drill check: every contradiction is an accepted gap, until the day it names")
        return EXIT_OK
    return EXIT_FAILED


def _accepted(accepted: Acceptance) -> str:
    return (f"accepted by {accepted.by} until {accepted.until}: {accepted.reason}")


def cmd_worker(args: argparse.Namespace) -> int:
    """Join a drill's distributed load from this host as a Locust worker."""
    from drills.stack.endpoint import Endpoint

    host, _, port = str(args.master).rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--master {printable(args.master)}: give the master's host:port, as "
                         "the plan's workload.master says (e.g. drills-master.internal:5557)")
    password = os.environ.get("DRILLS_PASSWORD")
    if password is None:
        raise UsageError(f"DRILLS_PASSWORD is not set: the password of {args.user or 'the'} "
                         f"user on {args.host}:{args.port} (kept out of argv on purpose)")
    endpoint = Endpoint(args.kind, args.host, args.port, password, args.user, args.database)
    ledger = Path(args.ledger).resolve()
    print(f"drill worker: joining {host}:{port}; writing to {args.kind} at "
          f"{args.host}:{args.port}; history in {ledger}, sent to the master at the end")
    from drills.workload.runner import child_environment

    return subprocess.run(
        [sys.executable, "-m", "drills.workload.locust_child", "--worker", "--send-back",
         "--master-host", host, "--master-port", port, "--ledger", str(ledger)],
        input=endpoint.to_env() + "\n", text=True, env=child_environment(),
        check=False).returncode


def cmd_images(args: argparse.Namespace) -> int:
    """Build the compose runtime's images offline, from Debian packages (needs root)."""
    script = Path(str(resources.files("drills") / "images" / "build.sh"))
    if args.action == "where":
        print(script.parent)
        return EXIT_OK
    env = dict(os.environ)
    if args.rebuild:
        env["DRILLS_REBUILD_IMAGES"] = "1"
    return subprocess.run(["bash", str(script)], env=env, check=False).returncode


class RenamedOption(argparse.Action):
    """An option's old name: still accepted, with a one-line note on stderr of its new one."""

    def __init__(self, *args: Any, new: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new = new

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(f"drill: {option_string} is deprecated; use {self.new} instead", file=sys.stderr)
        setattr(namespace, self.dest, values)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="drill", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the plan's drills and write the report")
    run.add_argument("--plan", help="plan file (default: the plan shipped with drills)")
    run.add_argument("--scenario", action="append", metavar="NAME",
                     help="run only this scenario (repeatable; default: every one in the plan)")
    run.add_argument("--runtime",
                     help="local processes, compose containers, or auto (default): compose "
                     "where a Docker engine answers with the images, else local")
    run.add_argument("--out", help="report directory (default: reports/)")
    run.add_argument("--run-id", help="the run's id and directory name under --out (default: "
                     "UTC time and a random suffix); e.g. the CI job's id")
    run.add_argument("--runs-db", metavar="FILE", help="runs database for trends and "
                     "regression limits (default: drills-runs.sqlite in the --out directory)")
    # the option's name until drills 0.2.0: CI scripts still say it
    run.add_argument("--history", dest="runs_db", action=RenamedOption, new="--runs-db",
                     help=argparse.SUPPRESS)
    run.add_argument("--operator", help="who runs the drill, for the evidence pack (default: "
                     "the login name)")
    run.add_argument("--sign-key", help="SSH private key (no passphrase) that signs the "
                     "evidence pack's manifest.json (ssh-keygen -Y sign)")
    run.add_argument("--pdf", choices=EDITIONS, default=EDITIONS[0], help=PDF_HELP)
    run.add_argument("--scenarios", help="directory of your own scenario files (default: the "
                     "built-in scenarios shipped with drills)")
    run.add_argument("pytest_args", nargs="*", help="extra pytest arguments, after --")
    run.set_defaults(func=cmd_run)
    check = sub.add_parser("check", help="validate a plan, show what each scenario will do "
                           "and the contradictions it holds; starts nothing (exit 0 fine, "
                           "1 contradictions, 2 invalid)")
    check.add_argument("plan", nargs="?", help="the plan file (default: the plan shipped "
                       "with drills)")
    check.add_argument("--plan", dest="plan_option", metavar="PLAN",
                       help="the plan file, as `drill run --plan` takes it")
    check.set_defaults(func=cmd_check)
    report = sub.add_parser("report", help="rebuild a run's report from its journals (exit 0 "
                            "every target passed, 1 a target failed or could not be verified)")
    report.add_argument("run_dir")
    report.add_argument("--pdf", choices=EDITIONS, default=EDITIONS[0], help=PDF_HELP)
    report.set_defaults(func=cmd_report)
    verify = sub.add_parser("verify", help="check a run's evidence pack: every file's sha256, "
                            "the signature, and every figure recomputed from the journals "
                            "(exit 0 verified, 1 something differs)")
    verify.add_argument("run_dir", help="the run directory (reports/<run id>)")
    verify.add_argument("--public-key", help="the SSH public key (.pub) the pack must be "
                        "signed with")
    verify.set_defaults(func=cmd_verify)
    worker = sub.add_parser("worker", help="join a drill's load from this host (a Locust "
                            "worker of the plan's workload.master); DRILLS_PASSWORD holds the "
                            "data store's password")
    worker.add_argument("--master", required=True, help="the master's host:port "
                        "(the plan's workload.master)")
    worker.add_argument("--kind", default="postgres", help="the data store's kind "
                        "(postgres, redis, app; default postgres)")
    worker.add_argument("--host", required=True, help="the data store's address, as this "
                        "host reaches it")
    worker.add_argument("--port", type=int, required=True)
    worker.add_argument("--user", help="database user (postgres)")
    worker.add_argument("--database", help="database name (postgres)")
    worker.add_argument("--ledger", default="drills-ledger", help="where this worker keeps its "
                        "op history until it sends it to the master (default: drills-ledger/)")
    worker.set_defaults(func=cmd_worker)
    clean = sub.add_parser("clean", help="remove what crashed runs left behind (exit 1 when "
                           "something could not be removed)")
    clean.add_argument("--dry-run", action="store_true", help="only list what would go")
    clean.set_defaults(func=cmd_clean)
    images = sub.add_parser("images", help="build the compose images offline (root, "
                            "mmdebstrap, a Docker engine)")
    images.add_argument("action", choices=("build", "where"),
                        help="build: every kind's image that is missing; where: print the "
                        "directory of the build scripts")
    images.add_argument("--rebuild", action="store_true",
                        help="rebuild images drills built before (never a foreign image)")
    images.set_defaults(func=cmd_images)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (PlanError, UsageError) as exc:
        print(f"drill: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DrillError as exc:
        print(f"drill: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `drill check plan.yaml | head`: the reader had enough
        # no flush at exit into the closed pipe (Python's own advice for SIGPIPE); the
        # exit code of a command a pipe cut short, as the shell gives it: never a pass
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13


if __name__ == "__main__":
    sys.exit(main())
