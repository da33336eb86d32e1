"""Load from several Locust workers: each keeps its own history, and the checker merges them.

On one machine, against a real PostgreSQL: a master with a worker the drill starts and a
worker that joins the way one on another host would (``drill worker --master host:port``,
the password in DRILLS_PASSWORD, its history sent back to the master at the end); and a
joined worker that dies before handing in its history, which must make the load's exit
code say so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drills.kinds.postgres import store as pg_store
from drills.kinds.postgres.settings import PostgresSettings
from drills.measure.checker import WriteClasses
from drills.measure.scan import scan
from drills.plan import WorkloadSpec
from drills.record.history import History, HistoryFile
from drills.record.readback import ReadBack
from drills.runtime.local import LocalRuntime
from drills.stack.endpoint import Endpoint
from drills.stack.ports import free_port
from drills.stack.stack import Stack
from drills.workload.ids import ID_BLOCK
from drills.workload.runner import Workload
from tests.integration.conftest import drill_cli, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DRILL = Path(sys.executable).with_name("drill")


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[Endpoint]:
    runtime = LocalRuntime("itest-workers", tmp_path / "logs")
    with Stack(runtime, runtime.services({"postgres": PostgresSettings()})) as stack:
        endpoint = stack["postgres"].endpoint
        pg_store.prepare(endpoint)
        yield endpoint


def _join(endpoint: Endpoint, port: int, ledger: Path, log: Path) -> subprocess.Popen[bytes]:
    """A worker joining as one on another host would: the documented command line."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [str(DRILL), "worker", "--master", f"127.0.0.1:{port}", "--kind", "postgres",
             "--host", endpoint.host, "--port", str(endpoint.port), "--user",
             str(endpoint.user), "--database", str(endpoint.database), "--ledger", str(ledger)],
            env={**os.environ, "DRILLS_PASSWORD": endpoint.password}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)


def test_a_local_and_a_joining_worker_merge_into_one_check(postgres: Endpoint,
                                                           tmp_path: Path) -> None:
    scenario, ledger = tmp_path / "scenario", tmp_path / "other-host"
    scenario.mkdir()
    port = free_port()
    spec = WorkloadSpec(users=4, workers=1, remote_workers=1, master=f"127.0.0.1:{port}")
    load = Workload(postgres, spec, scenario / "history.bin", scenario)
    joining = _join(postgres, port, ledger, tmp_path / "worker.log")
    try:
        load.start()  # returns once both workers joined and the users run
        wait_until("500 acknowledged writes from the two workers",
                   lambda: load.latest is not None and load.latest.ok >= 500, 60)
        code = load.stop()
    finally:
        if joining.poll() is None:
            joining.send_signal(signal.SIGTERM)
        joining.wait(30)
    log = (tmp_path / "worker.log").read_text()
    assert code == 0, (scenario / "logs" / "workload.log").read_text() + log
    assert joining.returncode == 0, log
    files = sorted(scenario.glob("history-w*.bin"))
    assert [f.name for f in files] == ["history-w1.bin", "history-w2.bin"]
    # the joining worker's history came back whole: the same bytes as it kept
    sent = next(ledger.glob("history-w*.bin"))
    assert (scenario / sent.name).read_bytes() == sent.read_bytes()
    assert "sent history-w" in log
    # each worker wrote ids of its own block, and every acknowledged write is in the store
    history = History.open(files)
    for index, ops in history.chunks_by_file():
        worker = HistoryFile.open(files[index]).worker
        assert ((ops["id"] > worker * ID_BLOCK) & (ops["id"] <= (worker + 1) * ID_BLOCK)).all()
    readback = ReadBack.from_values(dict(pg_store.read_back(postgres)))
    classes = WriteClasses()
    seen = scan(history.chunks(), readback, [classes])
    check = classes.finish(readback, seen)
    assert check.acked > 100 and (len(check.lost), len(check.unexpected),
                                  len(check.corrupted)) == (0, 0, 0)
    assert {HistoryFile.open(f).worker for f in files} == {1, 2}
    assert check.invoked == check.acked + check.failed + check.unknown


def test_a_worker_that_dies_before_handing_in_its_history_fails_the_load(
        postgres: Endpoint, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario"
    scenario.mkdir()
    port = free_port()
    spec = WorkloadSpec(users=2, workers=1, remote_workers=1, master=f"127.0.0.1:{port}")
    load = Workload(postgres, spec, scenario / "history.bin", scenario)
    joining = _join(postgres, port, tmp_path / "other-host", tmp_path / "worker.log")
    try:
        load.start()
        wait_until("100 acknowledged writes", lambda: load.latest is not None
                   and load.latest.ok >= 100, 60)
        os.killpg(joining.pid, signal.SIGKILL)  # the other host is lost, history and all
        joining.wait(10)
        started = time.monotonic()
        code = load.stop()
    finally:
        if joining.poll() is None:
            joining.kill()
    assert code == 3  # the master says a worker's writes cannot be checked
    assert time.monotonic() - started < 60  # it noticed the silence, not the 300 s cap
    assert "did not hand in their histories" in (scenario / "logs" / "workload.log").read_text()
    # the local worker's history is there; the lost one stayed on its host, unsent
    kept = [f.name for f in scenario.glob("history-w*.bin")]
    lost = [f.name for f in (tmp_path / "other-host").glob("history-w*.bin")]
    assert len(kept) == len(lost) == 1 and kept != lost


def test_a_drill_with_two_workers_checks_both_histories(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("""
version: 1
scenarios:
  postgres-kill:
    workload: {users: 4, workers: 2, warmup: 2s, hold: 2s}
    targets: {rto: 30s, rpo: 0s, max_lost_writes: 0}
""")
    done = drill_cli("run", "--plan", str(plan), "--runtime", "local", "--out",
                     str(tmp_path / "reports"), "--run-id", "two-workers")
    assert done.returncode == 0, done.stdout + done.stderr
    root = tmp_path / "reports" / "two-workers" / "postgres-kill"
    files = sorted(root.glob("history-w*.bin"))
    assert [f.name for f in files] == ["history-w1.bin", "history-w2.bin"]
    result = json.loads((root / "result.json").read_text())
    per_file = [sum(len(ops) for ops in History.open([f]).chunks()) for f in files]
    assert all(n > 0 for n in per_file)
    assert result["writes"]["invoked"] == sum(per_file)  # both histories, merged
    journal = json.loads((root / "journal.json").read_text())
    assert journal["scenario"]["workload"]["workers"] == 2
