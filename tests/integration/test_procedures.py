"""The team's procedures as real processes: placeholders, environment, timeout, process group."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

from drills.plan.procedure_spec import Procedure
from drills.procedures.context import ProcedureContext, ServiceAccess
from drills.procedures.runner import run
from tests.integration.conftest import processes_mentioning


def context(tmp_path: Path) -> ProcedureContext:
    return ProcedureContext(
        run_dir=tmp_path, logs_dir=tmp_path / "logs",
        services={"db": ServiceAccess(host="127.0.0.1", port=5432, user="team",
                                      database="prod", password="s3cret-pw")},
        project="drills-x-1", compose_files=(tmp_path / "compose.yaml",),
        latest={"daily": tmp_path / "dump.sql.gz"},
    )


def test_placeholders_environment_and_redaction(tmp_path: Path) -> None:
    script = 'echo "argv=$1 $2"; echo "env=$PGHOST:$PGPORT $COMPOSE_PROJECT_NAME"; ' \
             'echo "pw=$PGPASSWORD $DRILL_DB_PASSWORD"; echo "latest=$DRILL_LATEST_DAILY"'
    procedure = Procedure("restore", ("sh", "-c", script, "restore", "{latest:daily}",
                                      "{port:db}"), tmp_path,
                          {"PGHOST": "{host:db}", "PGPORT": "{port:db}",
                           "PGPASSWORD": "{password:db}"}, 10.0)
    done = run(procedure, context(tmp_path), "restore.log")
    assert done.ok and done.exit_code == 0
    log = done.log.read_text()
    assert f"argv={tmp_path / 'dump.sql.gz'} 5432" in log
    assert "env=127.0.0.1:5432 drills-x-1" in log
    assert "pw=<redacted> <redacted>" in log and "s3cret-pw" not in log
    assert f"latest={tmp_path / 'dump.sql.gz'}" in log
    assert done.argv[4] == str(tmp_path / "dump.sql.gz")  # recorded as run, no secret in it


def test_a_failing_procedure_says_how(tmp_path: Path) -> None:
    procedure = Procedure("fail", ("sh", "-c", "echo broken >&2; exit 3"), tmp_path, {}, 10.0)
    done = run(procedure, context(tmp_path), "fail.log")
    assert not done.ok and done.exit_code == 3
    assert "broken" in done.tail() and done.outcome().startswith("exit 3")


def test_a_relative_program_runs_from_the_procedure_directory(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "hello.sh").write_text("#!/bin/sh\necho hello from $(pwd)\n")
    (scripts / "hello.sh").chmod(0o755)
    done = run(Procedure("hello", ("scripts/hello.sh",), tmp_path, {}, 10.0),
               context(tmp_path), "hello.log")
    assert done.ok, done.tail()
    assert f"hello from {tmp_path}" in done.log.read_text()


def test_the_timeout_ends_the_whole_process_group(tmp_path: Path) -> None:
    marker = f"drills-test-{uuid.uuid4().hex}"
    # a child in the background and one in the foreground: both must go
    script = f"sleep 300 & exec -a {marker} sleep 300"
    procedure = Procedure("hang", ("bash", "-c", f"(exec -a {marker} sleep 300) & {script}"),
                          tmp_path, {}, 1.0)
    started = time.monotonic()
    done = run(procedure, context(tmp_path), "hang.log")
    assert done.timed_out and done.exit_code is None
    assert time.monotonic() - started < 20
    assert processes_mentioning(marker) == []


def test_ctrl_c_ends_the_procedure_and_is_raised(tmp_path: Path) -> None:
    marker = f"drills-test-{uuid.uuid4().hex}"
    procedure = Procedure("hang", ("bash", "-c", f"exec -a {marker} sleep 300"), tmp_path,
                          {}, 600.0)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run(procedure, context(tmp_path), "hang.log")
    finally:
        timer.cancel()
    assert processes_mentioning(marker) == []


def test_backup_dir_only_while_a_backup_is_taken(tmp_path: Path) -> None:
    from drills.errors import RecoveryError

    procedure = Procedure("dump", ("sh", "-c", "echo $1", "x", "{backup_dir}"), tmp_path, {},
                          10.0)
    with pytest.raises(RecoveryError, match="only given to a backup job"):
        run(procedure, context(tmp_path), "dump.log")
