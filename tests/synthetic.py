"""A synthetic recorded drill, for tests of the pure measurement and report code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drills.record.clock import Instant
from drills.record.history import HistoryWriter, Outcome, ProbeAttempt
from drills.record.journal import Journal, ScenarioFiles, write_json
from drills.record.readback import readback_meta, write_rows
from drills.record.timeline import Category, EventKind, Timeline

MONO0 = 1000.0  # monotonic reading at t = 0 of a synthetic drill
WALL0 = 1_763_700_000.0  # 2025-11-21T04:40:00Z
T_FAULT = 10.0
T_RECOVERED = 11.5  # end of the restart step; probes pass again from 11.55 s
SECRET = "s3cret-pw"
KILL_MECHANISM = "SIGKILL to pid 4242 and its 7 child processes"

META: dict[str, Any] = {
    "run_id": "r-test",
    "runtime": "local",
    "plan": {"path": "/plans/test.yaml", "sha256": "ab" * 32, "name": "test plan"},
    "started_wall": WALL0,
    "finished_wall": WALL0 + 20.0,
    "command": "drill run --plan /plans/test.yaml --runtime local",
}


def _at(t: float) -> Instant:
    return Instant(mono=MONO0 + t, wall=WALL0 + t)


def _environment() -> dict[str, Any]:
    return {
        "python": "3.11.7", "drills": "0.1.0", "host": "testhost", "platform": "Linux-test",
        "cpus": 2, "plan": dict(META["plan"]),
        "services": {
            "postgres": {
                "service": "postgres", "kind": "postgres", "runtime": "local",
                "version": "15.18",
                "endpoint": {"kind": "postgres", "host": "127.0.0.1", "port": 5432,
                             "password": SECRET, "user": "drills",
                             "dsn": f"postgresql://drills:{SECRET}@127.0.0.1:5432/drills"},
                "settings": {"fsync": "on", "synchronous_commit": "off"},
            },
            "redis": {"service": "redis", "kind": "redis", "runtime": "local",
                      "version": "7.0.15", "endpoint": {"host": "127.0.0.1", "port": 6379}},
        },
    }


def make_scenario_dir(
    run_dir: Path,
    name: str = "pg-kill",
    *,
    lost: int = 3,
    targets: dict[str, Any] | None = None,
    history: bool = True,
    probes: bool = True,
    readback: bool = True,
    error: str | None = None,
    freeze: bool = False,
) -> ScenarioFiles:
    """A recorded drill: load from 1 s, SIGKILL at 10 s, restart until 11.5 s, load to 14 s.

    With ``freeze``, the fault is a freeze at 10 s and its revert (the thaw) took effect
    at 11.5 s, with no recovery step.

    Writes every 50 ms; the ``lost`` last writes acknowledged before the fault are absent
    from the read-back; writes in flight at the fault are ``unknown`` (the first of them is
    present), and those during the outage ``fail``.
    """
    root = run_dir / name
    root.mkdir(parents=True)
    files = ScenarioFiles(root)
    tl = Timeline()
    tl.record(EventKind.STEP_START, "stack up", _at(0.0), category=str(Category.SETUP))
    tl.record(EventKind.STEP_END, "stack up", _at(0.5), category=str(Category.SETUP), ok=True)
    tl.record(EventKind.LOAD_START, "load start", _at(1.0))
    fault = "freeze postgres" if freeze else "kill postgres"
    tl.record(EventKind.STEP_START, fault, _at(T_FAULT), category=str(Category.FAULT))
    tl.record(EventKind.STEP_END, fault, _at(T_FAULT + 0.02),
              category=str(Category.FAULT), ok=True, mechanism=KILL_MECHANISM)
    if freeze:
        tl.record(EventKind.STEP_START, "thaw postgres", _at(T_RECOVERED),
                  category=str(Category.REVERT))
        tl.record(EventKind.STEP_END, "thaw postgres", _at(T_RECOVERED + 0.01),
                  category=str(Category.REVERT), ok=True, mechanism="SIGCONT")
    else:
        tl.record(EventKind.STEP_START, "restart postgres", _at(T_FAULT + 0.02),
                  category=str(Category.RECOVERY))
        tl.record(EventKind.STEP_END, "restart postgres", _at(T_RECOVERED),
                  category=str(Category.RECOVERY), ok=True)
    if error is not None:
        tl.record(EventKind.ERROR, "scenario error", _at(12.0), error=error)
    tl.record(EventKind.LOAD_STOP, "load stop", _at(14.0))
    tl.record(EventKind.STEP_START, "read back", _at(14.0), category=str(Category.CHECK))
    tl.record(EventKind.STEP_END, "read back", _at(14.2), category=str(Category.CHECK), ok=True)
    tl.record(EventKind.CHECK_DONE, "check done", _at(14.3))
    scenario = {
        "name": name,
        "targets": targets or {"rto_s": 30.0, "rpo_s": 0.0, "max_lost_writes": 0},
        "workload": {"users": 1, "rate": 20.0, "warmup_s": 9.0, "hold_s": 2.0},
        "probe": {"interval_s": 0.1, "timeout_s": 1.0},
        "recovery_timeout_s": 60.0,
        "params": {},
    }
    journal = Journal("r-test", scenario, "postgres", "postgres", "local", tl, _environment())
    write_json(files.journal, journal.to_dict())

    present: dict[int, str] = {}
    acked_before: list[int] = []
    writer = HistoryWriter(files.history) if history else None
    for i in range(260):  # t = 1.00 .. 13.95
        t = 1.0 + i * 0.05
        op_id, value = i + 1, f"{i + 1:08x}"
        if writer:
            writer.invoke(op_id, "write", value, MONO0 + t, WALL0 + t)
        if T_FAULT - 0.06 <= t < T_FAULT + 0.1:  # in flight at the fault: no answer
            if t < T_FAULT:
                present[op_id] = value  # it happened after all: recovered
            continue
        if T_FAULT + 0.1 <= t < T_RECOVERED:
            if writer:
                writer.complete(op_id, Outcome.FAIL, MONO0 + t + 0.001, WALL0 + t + 0.001,
                                "connection refused")
            continue
        if writer:
            writer.complete(op_id, Outcome.OK, MONO0 + t + 0.004, WALL0 + t + 0.004)
        present[op_id] = value
        if t < T_FAULT:
            acked_before.append(op_id)
    if writer:
        writer.close()
    for op_id in acked_before[len(acked_before) - lost:] if lost else []:
        del present[op_id]

    if probes:
        lines = []
        for i in range(130):
            t = 1.0 + i * 0.1
            back = T_RECOVERED if freeze else T_RECOVERED + 0.05  # a thaw needs no restart
            ok = t < T_FAULT or t >= back - 1e-9
            lines.append(ProbeAttempt(MONO0 + t, WALL0 + t, MONO0 + t + 0.01, WALL0 + t + 0.01,
                                      ok, None if ok else "connection refused").to_json())
        files.probes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if readback:
        write_readback(files, present)
    return files


def write_readback(files: ScenarioFiles, values: dict[int, str], source: str = "synthetic",
                   ) -> None:
    """Save ``values`` (id -> value) as the drill's read-back."""
    rows = write_rows(files.readback_rows, values.items())
    write_json(files.readback, readback_meta(source, rows, files.readback_rows.name))
