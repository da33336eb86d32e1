"""drills as a user gets it: the wheel built from this repository, in a fresh venv, run from
an empty directory. Before issue 6, `drill run` answered `no scenarios directory found`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.slow


def _clean_env(**extra: str) -> dict[str, str]:
    """This session's environment without what points back into the repository."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    bin_dir = str(REPO / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != bin_dir)
    return {**env, **extra}


def _run(argv: list[str], cwd: Path, timeout: float = 900, **env: str
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=_clean_env(**env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def _source_copy(into: Path) -> Path:
    """The repository's files as git sees them (no build/ left over from an older build)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = REPO / name, into / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet in the index
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return into


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding nothing but the wheel built from the repository and its deps."""
    work = tmp_path_factory.mktemp("wheel")
    source = _source_copy(work / "source")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                  str(work / "dist"), str(source)], cwd=work)
    assert built.returncode == 0, built.stderr
    wheels = list((work / "dist").glob("drills-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    assert made.returncode == 0, made.stderr
    installed = _run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                      str(wheels[0])], cwd=work)
    assert installed.returncode == 0, installed.stderr
    return venv


def test_the_wheel_holds_what_drill_needs(venv: Path, tmp_path: Path) -> None:
    code = """
import json, drills
from pathlib import Path
from drills import kinds
from drills.cli import builtin_scenarios
from drills.plan import default_plan_path
from drills.runtime.compose_file import template_path
root = Path(drills.__file__).parent
print(json.dumps({
    "package": str(root),
    "scenarios": sorted(p.name for p in builtin_scenarios().glob("test_*.py")),
    "ini": (builtin_scenarios() / "pytest.ini").is_file(),
    "plan": default_plan_path().is_file(),
    "compose": [template_path().is_file(),
                (template_path().parent / "docker-compose.hostnet.yml").is_file()],
    "build": (root / "images" / "build.sh").is_file(),
    "images": {k.name: sorted(p.name for p in (k.image_sources() or Path("/none")).iterdir())
               for k in kinds.all_kinds()},
}))
"""
    done = _run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    assert found["package"].startswith(str(venv))
    assert found["scenarios"] == sorted(p.name for p in (REPO / "drills" / "scenarios")
                                        .glob("test_*.py"))
    assert found["ini"] and found["plan"] and found["build"]
    assert found["compose"] == [True, True]
    for kind, files in found["images"].items():
        assert {"Dockerfile", "build-rootfs.sh", "image.env"} <= set(files), kind


@pytest.mark.parametrize("runtime", ["local", pytest.param("compose", marks=pytest.mark.compose)])
def test_drill_run_from_an_empty_directory(venv: Path, tmp_path: Path, runtime: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _run([str(venv / "bin" / "drill"), "run", "--runtime", runtime, "--scenario",
                 "postgres-kill", "--run-id", f"itest-wheel-{runtime}"], cwd=empty)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = empty / "reports" / f"itest-wheel-{runtime}"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == "pass"
    assert summary["runtime"] == runtime
    assert (run_dir / "index.html").is_file()
    assert str(venv) in done.stdout  # the scenarios ran from the installed package
    assert sorted(p.name for p in empty.iterdir()) == ["reports"]  # nothing else was written
    # the evidence pack, PDF included, made and checked with the wheel's drills alone
    assert (run_dir / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert (empty / "reports" / "drills-runs.sqlite").is_file()
    verified = _run([str(venv / "bin" / "drill"), "verify", str(run_dir)], cwd=empty)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "recomputed from the journals: identical" in verified.stdout


def test_the_full_stack_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    """The app ships in the wheel and runs on its venv's Python; Toxiproxy is the user's own."""
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [str(venv / "bin" / "drill"), "run", "--runtime", "local", "--scenario", "app-kill",
            "--run-id", "itest-wheel-app"]
    missing = _run(argv, cwd=empty)  # no toxiproxy-server on PATH, beside the venv, or named
    assert missing.returncode != 0
    assert "toxiproxy-server not found" in missing.stdout + missing.stderr
    assert "DRILLS_TOXIPROXY_SERVER" in missing.stdout + missing.stderr
    shutil.rmtree(empty / "reports")
    server = REPO / ".venv" / "bin" / "toxiproxy-server"  # built by scripts/setup.sh
    done = _run(argv, cwd=empty, DRILLS_TOXIPROXY_SERVER=str(server))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((empty / "reports" / "itest-wheel-app" / "summary.json").read_text())
    (entry,) = summary["scenarios"]
    assert entry["verdict"] == "pass" and entry["probed_service"] == "app"
    assert str(venv) in entry["environment"]["services"]["app"]["program"]


def test_a_teams_own_plan_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    """Plan version 2 from an empty directory: the bot-service example, copied as a user would."""
    own = tmp_path / "bot"
    shutil.copytree(REPO / "examples" / "bot-service", own)
    check = _run([str(venv / "bin" / "drill"), "check", "drill-plan.yaml"], cwd=own)
    assert check.returncode == 1, check.stdout + check.stderr  # the daily dump vs RPO 15 min
    assert "scenarios.postgres-loss.targets.rpo" in check.stdout
    done = _run([str(venv / "bin" / "drill"), "run", "--plan", "drill-plan.yaml", "--runtime",
                 "local", "--scenario", "postgres-loss", "--run-id", "itest-wheel-own"],
                cwd=own)
    # the run's verdict says what drill check said: the plan's own RPO gap fails it
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((own / "reports" / "itest-wheel-own" / "summary.json").read_text())
    (entry,) = summary["scenarios"]
    assert {t["key"] for t in entry["targets"] if t["verdict"] != "pass"} == {"plan.rpo"}
    assert entry["restore"] is not None


def test_mongodb_needs_its_extra_and_runs_with_it(venv: Path, tmp_path: Path) -> None:
    """pymongo is the [mongodb] extra: without it the drill names the extra; with it, it runs.

    Last in this module: it installs the extra into the module's venv.
    """
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [str(venv / "bin" / "drill"), "run", "--runtime", "local", "--scenario",
            "mongodb-kill", "--run-id", "itest-wheel-mongodb"]
    ferretdb = str(REPO / ".venv" / "bin" / "drills-ferretdb")  # built by scripts/setup.sh
    missing = _run(argv, cwd=empty, DRILLS_FERRETDB=ferretdb)
    assert missing.returncode != 0
    assert "pip install 'drills[mongodb]'" in missing.stdout + missing.stderr, \
        missing.stdout[-3000:] + missing.stderr[-3000:]
    shutil.rmtree(empty / "reports", ignore_errors=True)
    (wheel,) = (venv.parent / "dist").glob("drills-*.whl")
    installed = _run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                      f"{wheel}[mongodb]"], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    done = _run(argv, cwd=empty, DRILLS_FERRETDB=ferretdb)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((empty / "reports" / "itest-wheel-mongodb" / "summary.json")
                         .read_text())
    (entry,) = summary["scenarios"]
    assert entry["verdict"] == "pass" and entry["lost_writes"] == 0
    assert "FerretDB" in entry["environment"]["services"]["mongodb"]["server"]
