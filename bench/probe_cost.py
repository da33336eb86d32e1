"""Benchmark: what a finer probe costs the load, and the RTO resolution it buys.

Run on demand (not a test): ``make bench-probe`` or
``.venv/bin/python bench/probe_cost.py [--intervals 50ms 10ms] [--rounds 3]``.

It runs the default plan's ``postgres-kill`` on the local runtime ``--rounds`` times at
each probe interval, in turns (so that a drift of the machine falls on every interval
alike), and prints per interval the medians of: the interval reached, the RTO and its
resolution, the load's acknowledged writes a second before the fault, and the probe's
cost as each drill's report states it (attempts a second, their share of the load's
writes, the share of a core its thread used). Then the load's rate at each interval as a
ratio of its rate at the first one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

PLAN = Path(__file__).parents[1] / "drills" / "plans" / "default.yaml"
SCENARIO = "postgres-kill"


def drill(work: Path, interval: str, index: int) -> dict[str, Any]:
    plan = yaml.safe_load(PLAN.read_text())
    scenario = plan["scenarios"][SCENARIO]
    scenario["probe"] = {"interval": interval}
    scenario["regression"] = None
    plan_path = work / f"plan-{index}.yaml"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    run_id = f"probe-{index}"
    subprocess.run([str(Path(sys.executable).with_name("drill")), "run", "--plan",
                    str(plan_path), "--runtime", "local", "--out", str(work / "reports"),
                    "--run-id", run_id, "--scenario", SCENARIO], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = json.loads((work / "reports" / run_id / SCENARIO / "result.json").read_text())
    before = next(p for p in result["service_levels"] if p["phase"] == "before")
    cost = result["probe_cost"]
    return {"reached_ms": result["probe_interval_achieved_s"] * 1000,
            "rto_s": result["rto_s"], "resolution_ms": result["rto_resolution_s"] * 1000,
            "rate": before["rate_per_s"], "attempts_per_s": cost["attempts_per_s"],
            "share": cost["share_of_load"], "core": cost["core_share"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", nargs="+", default=["50ms", "10ms"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {i: [] for i in args.intervals}
    with tempfile.TemporaryDirectory(prefix="drills-probe-") as tmp:
        index = 0
        for _ in range(args.rounds):
            for interval in args.intervals:
                index += 1
                runs[interval].append(drill(Path(tmp), interval, index))
    print(f"{SCENARIO}, local runtime, {args.rounds} drills per interval (medians)")
    print(f"{'interval':>8} {'reached':>9} {'RTO':>8} {'resolution':>10} {'load acked/s':>13} "
          f"{'probe/s':>8} {'of load':>8} {'core':>6}")
    first = None
    for interval, results in runs.items():
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        first = first or med["rate"]
        print(f"{interval:>8} {med['reached_ms']:>7.1f}ms {med['rto_s']:>7.3f}s "
              f"{med['resolution_ms']:>8.1f}ms {med['rate']:>13.0f} "
              f"{med['attempts_per_s']:>8.0f} {med['share']:>8.1%} {med['core']:>6.1%}")
    for interval, results in runs.items():
        rate = statistics.median(r["rate"] for r in results)
        print(f"load rate at {interval}: {rate / first:.2f} of its rate at {args.intervals[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
