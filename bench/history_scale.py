"""Benchmark: ``drill report`` on a history of millions of writes (time and peak memory).

Run on demand (not a test): ``make bench-history`` or
``.venv/bin/python bench/history_scale.py [--writes 10M] [--keep DIR]``.

It builds a run directory around a real recorded drill (fixtures/recorded/
postgres-restore-wal: its journal, probes and baseline, with its fault, WAL restore and
consistency point) and gives it a generated op history of ``--writes`` writes spread over
the drill's load, as 8 concurrent users would record them (each completion lands 8
invokes after its own), with the outcomes the drill saw: refused during the outage, a few
unknown at the fault, acknowledged otherwise. The read-back holds every acknowledged write
except those acknowledged between the backup's consistency point and the fault: those are
lost, by design of the method. Then it runs ``drill report`` on it in a child process and
prints the wall time, the child's peak memory (getrusage), and whether the report found
exactly the lost writes the generator made.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from drills.record.history.format import COMPLETION, HEADER, INVOKE, RECORD, VERSION, boot_id
from drills.record.history.outcome import Outcome
from drills.record.journal import ScenarioFiles, load_journal
from drills.record.readback import ROW, readback_meta
from drills.record.timeline import Category, EventKind

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "postgres-restore-wal"
USERS = 8


def _count(text: str) -> int:
    units = {"k": 1_000, "M": 1_000_000}
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def build(run_dir: Path, writes: int, seed: int = 7) -> dict[str, int]:
    """The run directory: the recorded drill's journal with a generated history of ``writes``."""
    name = RECORDED.name
    root = run_dir / name
    root.mkdir(parents=True)
    for file in ("journal.json", "probes.jsonl", "baseline.json"):
        shutil.copy(RECORDED / file, root / file)
    files = ScenarioFiles(root)
    journal = load_journal(files)
    events = journal.timeline.events
    load_start = next(e.at.mono for e in events if e.kind == EventKind.LOAD_START)
    load_stop = next(e.at.mono for e in events if e.kind == EventKind.LOAD_STOP)
    steps = journal.timeline.steps()
    fault = next(s for s in steps if s.category == Category.FAULT and s.ok)
    restore = next(s for s in steps
                   if s.category == Category.RECOVERY and "restored_from" in s.data)
    assert restore.end is not None
    backup = next(s for s in steps if s.category == Category.BACKUP and "consistency" in s.data)
    point = float(backup.data["consistency"]["earliest_mono"])
    t_fault = fault.start.mono

    rng = np.random.default_rng(seed)
    ids = np.arange(1, writes + 1, dtype=np.int64)
    invoke = np.linspace(load_start, load_stop, writes)
    latency = rng.lognormal(np.log(0.0012), 0.5, writes)
    complete = invoke + latency
    outcome = np.full(writes, COMPLETION[Outcome.OK], np.uint8)
    down = (invoke >= t_fault) & (invoke < restore.end.mono)
    outcome[down] = COMPLETION[Outcome.FAIL]
    at_fault = np.flatnonzero(invoke >= t_fault)[:USERS]
    outcome[at_fault] = COMPLETION[Outcome.UNKNOWN]
    digest = rng.integers(0, 2**63, writes, dtype=np.uint64)

    header = np.zeros(1, dtype=RECORD)
    header[0] = (HEADER, VERSION, 0, 0, 1, load_start, 0.0, boot_id())
    inv = np.zeros(writes, dtype=RECORD)
    inv["type"], inv["id"], inv["mono"], inv["digest"] = INVOKE, ids, invoke, digest
    done = np.zeros(writes, dtype=RECORD)
    done["type"], done["id"], done["mono"] = outcome, ids, complete
    # the completion of write k lands after the invoke of write k + USERS
    pairs = np.empty(2 * (writes - USERS), dtype=RECORD)
    pairs[0::2], pairs[1::2] = inv[USERS:], done[: writes - USERS]
    with open(files.history, "wb") as out:
        for part in (header, inv[:USERS], pairs, done[writes - USERS:]):
            part.tofile(out)
    del inv, done, pairs

    acked = outcome == COMPLETION[Outcome.OK]
    lost = acked & (complete >= point) & (complete <= t_fault)
    keep = acked & ~lost
    table = np.zeros(int(keep.sum()), dtype=ROW)
    table["id"], table["digest"] = ids[keep], digest[keep]
    table.tofile(files.readback_rows)
    (files.readback).write_text(json.dumps(readback_meta(
        "generated", len(table), files.readback_rows.name)))
    (run_dir / "summary.json").write_text(json.dumps(
        {"run_id": "bench-history", "runtime": journal.runtime, "plan": None,
         "scenarios": [{"name": name}]}))
    return {"writes": writes, "lost": int(lost.sum()),
            "history_bytes": files.history.stat().st_size,
            "readback_bytes": files.readback_rows.stat().st_size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", default="10M", help="writes in the history (10M, 500k, ...)")
    parser.add_argument("--keep", help="build the run directory here and keep it")
    parser.add_argument("--build", help=argparse.SUPPRESS)  # the child that generates
    args = parser.parse_args()
    writes = _count(args.writes)
    if args.build:
        print(json.dumps(build(Path(args.build), writes)))
        return 0
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="drills-bench-"))
    run_dir = base / "bench-history"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    try:
        # generated in a child of its own: a child forked from a process holding the
        # generator's arrays would start its peak-memory count from them
        t0 = time.monotonic()
        made = json.loads(subprocess.run(
            [sys.executable, __file__, "--build", str(run_dir), "--writes", args.writes],
            check=True, capture_output=True, text=True).stdout)
        print(f"generated {made['writes']:,} writes in {time.monotonic() - t0:.1f} s: "
              f"history {made['history_bytes'] / 1e6:.0f} MB, read-back "
              f"{made['readback_bytes'] / 1e6:.0f} MB, {made['lost']:,} lost by design")
        drill = Path(sys.executable).with_name("drill")
        t0 = time.monotonic()
        child = subprocess.Popen([str(drill), "report", str(run_dir)],
                                 stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        took = time.monotonic() - t0
        if child.returncode:
            print(f"drill report exited {child.returncode}")
            return 1
        summary = json.loads((run_dir / "summary.json").read_text())
        found = summary["scenarios"][0]["writes"]["lost"]
        print(f"drill report: {took:.1f} s, peak memory {usage.ru_maxrss / 1024:.0f} MB")
        print(f"lost writes found: {found:,} of {made['lost']:,} made "
              f"({'exact' if found == made['lost'] else 'MISMATCH'})")
        return 0 if found == made["lost"] else 1
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
