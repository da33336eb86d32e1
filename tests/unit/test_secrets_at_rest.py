"""Issue 21, item 4: secrets never at rest in clear; item 5: no orphan of a procedure.

Each case failed on the code before: the log held the password while the procedure ran
(redacted only at its end, in a 0644 file), journals and summaries kept URL credentials,
the load generator got its password through its environment, and a child a procedure
started with setsid outlived the procedure, the drill and ``drill clean``.
"""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from drills.config import claim_run_dir
from drills.measure.evaluate import evaluate
from drills.plan import WorkloadSpec
from drills.plan.procedure_spec import Procedure
from drills.procedures import leftovers
from drills.procedures.context import ProcedureContext, ServiceAccess
from drills.procedures.runner import run
from drills.record.journal import write_json
from drills.redact import (
    REDACTED,
    StreamRedactor,
    keep_private,
    redact_tree,
    redact_url_credentials,
)
from drills.report import write_reports
from drills.stack.endpoint import Endpoint
from drills.stack.ownership import Owner, process_start_ticks
from drills.stack.workdir import OWNER_FILE, PROCESSES_FILE
from drills.workload import runner as workload_runner
from tests.synthetic import META, make_scenario_dir

PASSWORD = "pw-Zq8r1X0c"
URL = f"postgresql://drills:{PASSWORD}@127.0.0.1:5432/shop"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the redactor ------------------------------------------------------------------------


def test_url_credentials_are_redacted_and_the_rest_kept() -> None:
    assert redact_url_credentials(f"dsn={URL} ok") == \
        f"dsn=postgresql://drills:{REDACTED}@127.0.0.1:5432/shop ok"
    assert redact_url_credentials("http://127.0.0.1:8080/health") == \
        "http://127.0.0.1:8080/health"  # a port is no password
    assert redact_url_credentials("http://127.0.0.1:8080/u/@me") == \
        "http://127.0.0.1:8080/u/@me"  # nor a path
    assert redact_url_credentials(f"redis://:{PASSWORD}@127.0.0.1:6379/0") == \
        f"redis://:{REDACTED}@127.0.0.1:6379/0"  # a password without a user
    tree = redact_tree({"a": [URL, {"b": f"x {URL}"}], "n": 3}, [])
    assert PASSWORD not in json.dumps(tree) and tree["n"] == 3


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 5000])
def test_the_stream_redactor_catches_a_secret_split_across_chunks(size: int) -> None:
    text = (f"connecting with {PASSWORD}\nthen {URL}\n" + "x" * 9000 + PASSWORD +
            "y" * 100 + "\nno newline at the end " + PASSWORD).encode()
    redactor = StreamRedactor([PASSWORD])
    out = b"".join(redactor.feed(text[i:i + size]) for i in range(0, len(text), size))
    out += redactor.close()
    assert PASSWORD.encode() not in out
    assert out.count(REDACTED.encode()) == 4
    assert out.replace(REDACTED.encode(), b"").startswith(b"connecting with \nthen ")


def _procedure(tmp_path: Path, script: str, timeout_s: float = 30.0) -> Procedure:
    return Procedure("restore", ("sh", "-c", script), tmp_path, {}, timeout_s)


def _ctx(tmp_path: Path, workdir: Path | None = None) -> ProcedureContext:
    return ProcedureContext(run_dir=tmp_path, logs_dir=tmp_path / "logs",
                            services={"db": ServiceAccess(password=PASSWORD)},
                            workdir=workdir)


def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_running_procedures_log_never_holds_its_password(tmp_path: Path) -> None:
    """Read while the procedure runs: before, the cleartext was there until it ended."""
    ctx = _ctx(tmp_path)
    procedure = _procedure(tmp_path, f'echo "password is {PASSWORD}"; echo "{URL}"; '
                                     'echo ready; sleep 30')
    log = ctx.logs_dir / "procedure-01-restore.log"
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(run(procedure, ctx, log.name)))
    thread.start()
    try:
        _wait_for(lambda: log.exists() and "ready" in log.read_text())
        text = log.read_text()
        assert PASSWORD not in text
        assert f"password is {REDACTED}" in text
        assert _mode(log) == 0o600 and _mode(ctx.logs_dir) == 0o700
    finally:  # end the procedure as a timeout would: its group goes
        for pid in _procedure_pids():
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        thread.join(15)
    assert done and PASSWORD not in log.read_text()


def _procedure_pids() -> list[int]:
    """The shell running the test's procedure (found by its command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"echo ready; sleep 30" in cmdline and int(entry.name) != os.getpid():
                found.append(int(entry.name))
    return found


def test_the_procedures_argv_in_the_journal_hides_url_credentials(tmp_path: Path) -> None:
    result = run(_procedure(tmp_path, f"true {URL}"), _ctx(tmp_path), "p.log")
    assert result.ok
    assert PASSWORD not in json.dumps(result.to_dict())


# -- file modes ----------------------------------------------------------------------------


def test_a_runs_directory_and_files_are_private(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "r1"
    claim_run_dir(run_dir)
    assert _mode(run_dir) == 0o700
    files = make_scenario_dir(run_dir, lost=0)
    assert _mode(files.journal) == 0o600
    write_json(run_dir / "x.json", {"a": 1})
    assert _mode(run_dir / "x.json") == 0o600
    results = [evaluate(files)]
    paths = write_reports(run_dir, results, META)
    for path in (paths.summary, paths.html, paths.junit, paths.runbook):
        assert _mode(path) == 0o600, path
    # what a tool wrote with its own modes is made private at the end of the run
    other = files.logs / "tool.log"
    files.logs.mkdir(exist_ok=True)
    other.write_text("x")
    other.chmod(0o644)
    files.logs.chmod(0o755)
    keep_private(run_dir)
    for top, dirs, names in os.walk(run_dir):
        for name in dirs:
            assert _mode(Path(top) / name) == 0o700, name
        for name in names:
            assert _mode(Path(top) / name) == 0o600, name


# -- URL credentials in what drills writes ------------------------------------------------


def test_url_credentials_never_reach_the_journal_result_or_summary(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    files = make_scenario_dir(run_dir, lost=0, error=f"cannot reach {URL}")
    journal = files.journal.read_text()
    assert "postgresql://drills:" in journal and PASSWORD not in journal
    result = evaluate(files)
    write_json(files.root / "result.json", result.to_dict())
    assert PASSWORD not in (files.root / "result.json").read_text()
    meta = {**META, "command": f"drill run --dsn {URL}"}
    paths = write_reports(run_dir, [result], meta)
    for path in (paths.summary, paths.html, paths.junit, paths.runbook):
        assert PASSWORD not in path.read_text(), path
    assert f"postgresql://drills:{REDACTED}@" in paths.summary.read_text()


# -- the load generator's password --------------------------------------------------------


class _FakeChild:
    """What Popen gives the workload runner: a stdin to read back, one line of stats."""

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        self.argv, self.kwargs = argv, kwargs
        self.pid = 0
        self.returncode: int | None = None
        self.stdin = io.StringIO() if kwargs.get("text") else io.BytesIO()
        self.stdin.close = lambda: None  # type: ignore[method-assign]
        stats = json.dumps({"t": 1.0, "ok": 1, "fail": 0, "unknown": 0, "p99_ms": 1.0})
        self.stdout = io.StringIO(stats + "\n") if kwargs.get("text") else None

    def poll(self) -> int | None:
        return 0

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.mark.parametrize("workers", [0, 2])
def test_the_load_generator_gets_its_password_on_stdin_not_in_its_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    started: list[_FakeChild] = []

    def popen(argv: list[str], **kwargs: Any) -> _FakeChild:
        started.append(_FakeChild(argv, **kwargs))
        return started[-1]

    monkeypatch.setattr(workload_runner.subprocess, "Popen", popen)
    monkeypatch.setenv("DRILLS_ENDPOINT", "left over from the caller")
    endpoint = Endpoint("postgres", "127.0.0.1", 5432, PASSWORD, "drills", "drills")
    spec = WorkloadSpec(users=1, rate=1.0, workers=workers)
    load = workload_runner.Workload(endpoint, spec, tmp_path / "history.bin", tmp_path)
    load.start(timeout=5)
    load.stop()
    assert len(started) == 1 + workers
    for child in started:
        env = child.kwargs["env"]
        assert all(PASSWORD not in v for v in env.values())
        assert "DRILLS_ENDPOINT" not in env
        assert PASSWORD not in " ".join(child.argv)
        given = child.stdin.getvalue()
        text = given.decode() if isinstance(given, bytes) else given
        assert Endpoint.from_env(text.strip()) == endpoint
    assert _mode(tmp_path / "workload.json") == 0o600
    assert PASSWORD not in (tmp_path / "workload.json").read_text()


def test_the_load_generator_reads_its_endpoint_from_stdin(tmp_path: Path) -> None:
    """The child itself: no DRILLS_ENDPOINT, the endpoint on stdin (no server: it fails on
    connecting, after it has read the endpoint)."""
    env = {k: v for k, v in os.environ.items() if k != "DRILLS_ENDPOINT"}
    done = subprocess.run(
        [sys.executable, "-m", "drills.workload.locust_child", str(tmp_path / "none.json")],
        input="", capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode != 0 and "no endpoint on standard input" in done.stderr


# -- item 5: no orphan ---------------------------------------------------------------------


def _alive(pid: int, start: int | None) -> bool:
    return start is not None and process_start_ticks(pid) == start and \
        Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"


def _pid_from(path: Path) -> int:
    _wait_for(lambda: path.exists() and path.read_text().strip().isdigit())
    return int(path.read_text())


def test_a_child_that_left_the_procedures_group_ends_with_the_procedure(
        tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    result = run(_procedure(tmp_path, f"setsid sleep 300 & echo $! > {pidfile}; sleep 0.3"),
                 _ctx(tmp_path), "p.log")
    assert result.ok
    child = int(pidfile.read_text())
    assert process_start_ticks(child) is None or \
        Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0] == "Z"


def test_drill_clean_ends_what_a_crashed_runs_procedure_left(tmp_path: Path) -> None:
    """The drill is gone (its owner record names a dead process); its procedure's leader was
    killed with it; a child that called setsid runs on, re-parented: clean ends it."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    workdir = tmp / "drills-r1-abc"
    workdir.mkdir(mode=0o711)
    gone = subprocess.Popen(["true"])
    gone_start = process_start_ticks(gone.pid)
    gone.wait()
    owner = Owner(gone.pid, gone_start or 1, Owner.current().boot, Owner.current().pidns,
                  Owner.current().host)
    (workdir / OWNER_FILE).write_text(json.dumps({"run_id": "r1", "owner": owner.to_dict()}))
    (workdir / OWNER_FILE).chmod(0o600)
    pidfile = tmp_path / "child.pid"
    mark = "0123456789abcdef"
    leader = subprocess.Popen(
        ["sh", "-c", f"setsid sleep 300 & echo $! > {pidfile}; exec sleep 300"],
        start_new_session=True, env={**os.environ, leftovers.MARK_VARIABLE: mark})
    leader_start = process_start_ticks(leader.pid)
    record = {"name": "procedure restore", "pid": leader.pid, "start": leader_start,
              "kind": "procedure", "mark": mark}
    (workdir / PROCESSES_FILE).write_text(json.dumps(record) + "\n")
    (workdir / PROCESSES_FILE).chmod(0o600)
    child = _pid_from(pidfile)
    child_start = process_start_ticks(child)
    # it has left the group (setsid ran) before the group is killed
    _wait_for(lambda: (found := leftovers.stat(child)) is not None and found.sid == child)
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        os.killpg(leader.pid, signal.SIGKILL)  # the drill's death took the leader's group
        leader.wait()
        assert _alive(child, child_start), "the setsid child should survive its group"
        from drills.cleanup import clean_local

        said = [str(s) for s in clean_local(tmp)]
        assert not _alive(child, child_start), said
        assert any(f"pid {child}" in line and "procedure restore" in line
                   for line in said), said
        assert bystander.poll() is None  # nothing else is touched
        assert not workdir.exists()
    finally:
        bystander.kill()
        bystander.wait()
        if _alive(child, child_start):
            os.kill(child, signal.SIGKILL)


def test_drill_check_never_prints_a_urls_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from drills.cli import main

    plan = tmp_path / "plan.yaml"
    plan.write_text("""
version: 2
stack:
  services:
    db: {kind: postgres}
    api:
      kind: app
      health: {http: "http://ops:${API_PW}@127.0.0.1:8080/health"}
scenarios:
  x:
    fault: {kill: db}
    targets: {rto: 1m}
""")
    monkeypatch.setenv("API_PW", PASSWORD)
    assert main(["check", str(plan)]) == 0
    out = capsys.readouterr().out
    assert PASSWORD not in out
    assert f"http://ops:{REDACTED}@127.0.0.1:8080/health" in out
