"""Benchmark: a long drill at full load, with the memory of each of its processes sampled.

Run on demand (not a test): ``make bench-long`` or
``.venv/bin/python bench/long_drill.py [--hold 600] [--workers 0] [--scenario postgres-kill]``.

It copies the default plan, sets the scenario's load to hold ``--hold`` seconds after
recovery, unthrottled (and ``--workers`` Locust workers when given), runs ``drill run``
on the local runtime, and samples every second the resident memory of the drill process
and of each process under it (Locust, the servers). It prints the peak of each, the
writes recorded and their rate, and the history's size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

PLAN = Path(__file__).parents[1] / "drills" / "plans" / "default.yaml"


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            todo.append(child)
    return found


def _name(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        text = " ".join(a.decode(errors="replace") for a in argv[:4])
        return "locust worker" if "locust_child" in text and "--worker" in text else \
            "locust" if "locust_child" in text else text[:60]
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=600.0, help="seconds of load after recovery")
    parser.add_argument("--scenario", default="postgres-kill")
    parser.add_argument("--workers", type=int, default=0, help="Locust workers (0: one process)")
    parser.add_argument("--keep", help="write the run here and keep it")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="drills-long-"))
    work.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work / "reports", ignore_errors=True)  # an earlier run of the benchmark
    plan = yaml.safe_load(PLAN.read_text())
    scenario = plan["scenarios"][args.scenario]
    load = {**(scenario.get("workload") or {}), "hold": f"{args.hold:g}s", "rate": 0}
    if args.workers:
        load["workers"] = args.workers
    scenario["workload"] = load
    scenario.pop("regression", None)
    plan_path = work / "plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    drill = Path(sys.executable).with_name("drill")
    argv = [str(drill), "run", "--plan", str(plan_path), "--runtime", "local",
            "--out", str(work / "reports"), "--run-id", "long", "--scenario", args.scenario]
    peaks: dict[str, int] = {}
    stop = threading.Event()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sample() -> None:
        while not stop.is_set():
            peaks["drill"] = max(peaks.get("drill", 0), _rss_kb(proc.pid))
            for pid in _descendants(proc.pid):
                name = _name(pid)
                if name.startswith("locust"):
                    peaks[name] = max(peaks.get(name, 0), _rss_kb(pid))
            stop.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    stop.set()
    sampler.join()
    took = time.monotonic() - t0
    run = work / "reports" / "long"
    summary = json.loads((run / "summary.json").read_text())
    result = summary["scenarios"][0]
    histories = sorted((run / args.scenario).glob("history*.bin"))
    size = sum(p.stat().st_size for p in histories)
    journal = json.loads((run / args.scenario / "journal.json").read_text())
    load_events = [e for e in journal["events"] if e["kind"] in ("load.start", "load.stop")]
    span = load_events[-1]["mono"] - load_events[0]["mono"] if len(load_events) > 1 else 0.0
    writes = result["writes"]["invoked"] if result["writes"] else 0
    print(f"drill run exit {code} in {took:.0f} s: {args.scenario}, hold {args.hold:g} s, "
          f"{args.workers or 'no'} workers, verdict {result['verdict']}")
    print(f"writes: {writes:,} in {span:.0f} s of load ({writes / span if span else 0:.0f}/s); "
          f"history {size / 1e6:.0f} MB in {len(histories)} file(s)")
    for name, kb in sorted(peaks.items()):
        print(f"peak resident memory, {name}: {kb / 1024:.0f} MB")
    print(f"run directory: {run}")
    return code


if __name__ == "__main__":
    sys.exit(main())
